import * as fs from "node:fs";
import * as path from "node:path";
import { withRuleReference } from "./readme";

const file = path.join(__dirname, "..", "README.md");
fs.writeFileSync(file, withRuleReference(fs.readFileSync(file, "utf8")));
console.log(`updated ${path.relative(process.cwd(), file)}`);
