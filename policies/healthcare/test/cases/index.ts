import type { Case } from "../case";
import { encryptionAtRestCases } from "./encryptionAtRest";
import { encryptionInTransitCases } from "./encryptionInTransit";
import { kubernetesCases } from "./kubernetes";
import { networkSecurityCases } from "./networkSecurity";
import { observabilityCases } from "./observability";
import { otherCases } from "./other";
import { peeringCases } from "./peering";
import { residencyCases } from "./residency";
import { retentionCases } from "./retention";
import { runtimeSecurityCases } from "./runtimeSecurity";
import { workloadsCases } from "./workloads";

/** Every case of every rule. */
export const ALL_CASES: readonly Case[] = [
  ...encryptionAtRestCases,
  ...observabilityCases,
  ...encryptionInTransitCases,
  ...retentionCases,
  ...residencyCases,
  ...networkSecurityCases,
  ...peeringCases,
  ...kubernetesCases,
  ...otherCases,
  ...workloadsCases,
  ...runtimeSecurityCases,
];
