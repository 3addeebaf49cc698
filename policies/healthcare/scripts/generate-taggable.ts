import * as fs from "node:fs";
import * as path from "node:path";
import { awsSdkVersion, renderTaggableModule, taggableAwsTypes } from "./taggable";

const out = path.join(__dirname, "..", "src", "generated", "awsTaggable.ts");
const types = taggableAwsTypes();
fs.writeFileSync(out, renderTaggableModule(types, awsSdkVersion()));
console.log(`wrote ${types.length} taggable AWS types to ${path.relative(process.cwd(), out)}`);
