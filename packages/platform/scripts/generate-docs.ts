import * as fs from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import {
  configurationReference,
  deployOrderTable,
  layerGraphMermaid,
  loadEnvironmentConfigFile,
  replaceSection,
  stackOrderList,
} from "../src";

/**
 * `pnpm docs:generate`: rewrites the README sections generated from the layer graph (architecture diagram,
 * deploy order, production stack order) and from the config schema (the configuration reference).
 * `test/docs.test.ts` fails when they are stale.
 */
export async function generatedReadme(root: string): Promise<string> {
  const file = path.join(root, "README.md");
  let doc = fs.readFileSync(file, "utf8");
  const production = loadEnvironmentConfigFile(path.join(root, "Pulumi.production.yaml"), "production", {
    // The stack list does not depend on the date; pin it so the docs do not either.
    now: new Date("2026-06-01T00:00:00Z"),
  });
  doc = replaceSection(doc, "layer-graph", ["```mermaid", layerGraphMermaid(), "```"].join("\n"));
  doc = replaceSection(doc, "deploy-order", deployOrderTable());
  doc = replaceSection(doc, "production-stacks", stackOrderList(production));
  doc = replaceSection(doc, "config-reference", configurationReference());
  // Formatted like the rest of the repository, so `prettier --check` and this agree.
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(doc, { ...options, filepath: file });
}

if (require.main === module) {
  const root = path.resolve(__dirname, "..", "..", "..");
  void generatedReadme(root).then((doc) => {
    fs.writeFileSync(path.join(root, "README.md"), doc);
    console.log("README.md sections regenerated from @hcp/platform's layer graph and config schema.");
  });
}
