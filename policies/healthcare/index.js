// Entry point the Pulumi CLI runs (package.json "main"). The CLI's run-policy-pack loads packs
// through ts-node with type checking, while the pack and the workspace packages it imports
// (@hcp/platform) are TypeScript sources meant for tsx: register tsx, then load the pack. `tsc -b`
// is the type check.
"use strict";
require("tsx/cjs/api").register();
require("./src/index.ts");
