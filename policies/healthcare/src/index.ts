import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./pack";

// The one PolicyPack of this process: constructing it starts the analyzer's gRPC server and prints
// its port for the Pulumi CLI. Everything else imports src/lib.ts, which never does this.
new PolicyPack(PACK_NAME, packArgs());
