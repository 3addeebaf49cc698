// Entry point the Pulumi CLI runs (package.json "main"). The CLI's run-policy-pack loads packs
// through ts-node with type checking, while the pack and the workspace packages it imports
// (@hcp/platform) are TypeScript sources meant for tsx: register tsx, then load the pack. `tsc -b`
// is the type check.
"use strict";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS entry point
require("tsx/cjs/api").register();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS entry point
require("./src/index.ts");
