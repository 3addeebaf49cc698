import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { DEFAULT_ARCHIVE_COPY_IMAGE, imageReference, loadEnvironmentConfigFile } from "@hcp/platform";
import { repoRoot } from "@hcp/testing";
import { discover } from "../src/discover";

/**
 * renovate.json: valid against Renovate's schema, and every exact pin of the environment files (EKS
 * version, add-ons, Helm charts, images) and of the config defaults is found by one of its custom
 * managers, extracted the way Renovate's regex manager does (every `matchStrings` match in a file
 * that `managerFilePatterns` selects; `*Template` fields rendered from the named groups).
 */

const ROOT = repoRoot();
const SCHEMA = path.join(__dirname, "fixtures", "renovate", "renovate-schema-44.121.2.json");

interface CustomManager {
  readonly description: string;
  readonly customType: string;
  readonly managerFilePatterns: readonly string[];
  readonly matchStrings: readonly string[];
  readonly depNameTemplate?: string;
  readonly packageNameTemplate?: string;
  readonly datasourceTemplate?: string;
  readonly versioningTemplate?: string;
  readonly depTypeTemplate?: string;
  readonly autoReplaceStringTemplate?: string;
}

interface RenovateConfig {
  readonly enabledManagers: readonly string[];
  readonly rangeStrategy: string;
  readonly packageRules: ReadonlyArray<Record<string, unknown>>;
  readonly customManagers: readonly CustomManager[];
}

const config = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")) as RenovateConfig;

/** A dependency as Renovate's regex manager extracts it. */
interface Extracted {
  readonly manager: CustomManager;
  readonly depName: string;
  readonly packageName: string;
  readonly currentValue: string;
  readonly datasource: string;
  readonly registryUrl?: string;
  readonly depType?: string;
  readonly currentDigest?: string;
  /** The matched text and its named groups (what `autoReplaceStringTemplate` renders from). */
  readonly match: string;
  readonly groups: Readonly<Record<string, string>>;
}

/** `/regex/` patterns of `managerFilePatterns` (globs are not used here). */
function fileMatches(manager: CustomManager, file: string): boolean {
  return manager.managerFilePatterns.some((p) => {
    assert.match(p, /^\/.+\/$/, `managerFilePatterns entries are /regex/: ${p}`);
    return new RegExp(p.slice(1, -1)).test(file);
  });
}

function render(template: string | undefined, groups: Record<string, string>): string | undefined {
  return template?.replace(/\{\{\{(\w+)\}\}\}/g, (_, name: string) => {
    assert.ok(name in groups, `template uses {{{${name}}}}, which no named group captures`);
    return groups[name];
  });
}

function extract(file: string, text: string): Extracted[] {
  return config.customManagers
    .filter((m) => fileMatches(m, file))
    .flatMap((manager) =>
      manager.matchStrings.flatMap((source) =>
        [...text.matchAll(new RegExp(source, "g"))].map((m) => {
          const groups = { ...m.groups } as Record<string, string>;
          const depName = render(manager.depNameTemplate, groups) ?? groups["depName"];
          return {
            manager,
            depName,
            packageName: render(manager.packageNameTemplate, groups) ?? groups["packageName"] ?? depName,
            currentValue: groups["currentValue"],
            datasource: render(manager.datasourceTemplate, groups) ?? groups["datasource"],
            registryUrl: groups["registryUrl"],
            depType: render(manager.depTypeTemplate, groups),
            currentDigest: groups["currentDigest"],
            match: m[0],
            groups,
          };
        }),
      ),
    );
}

/** The pins an environment file holds, by config key path, from the parsed environment. */
function pinsOf(file: string): Map<string, string> {
  const name = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file))![1];
  const topology = loadEnvironmentConfigFile(file, name);
  const pins = new Map<string, string>([["cluster.version", topology.cluster.version]]);
  for (const [key, version] of Object.entries(topology.cluster.addons)) {
    pins.set(`cluster.addons.${key}`, version);
  }
  for (const [key, pin] of Object.entries(topology.cluster.charts)) {
    pins.set(`cluster.charts.${key}`, pin.version);
  }
  pins.set("data.image", topology.data.image.tag);
  const archive = topology.data.backup.archiveCopyImage;
  if (
    archive.tag !== DEFAULT_ARCHIVE_COPY_IMAGE.tag ||
    archive.repository !== DEFAULT_ARCHIVE_COPY_IMAGE.repository
  ) {
    pins.set("data.backup.archiveCopyImage", archive.tag);
  }
  for (const [name, image] of Object.entries(topology.observability.exporters)) {
    pins.set(`observability.exporters.${name}`, image.tag);
  }
  return pins;
}

/**
 * Renders an `autoReplaceStringTemplate` as Renovate does for the subset used here: `{{{name}}}` and
 * `{{#if name}}...{{/if}}` over the match's groups plus `newValue` / `newDigest`.
 */
function renderReplacement(template: string, values: Record<string, string | undefined>): string {
  return template
    .replace(/\{\{#if (\w+)\}\}([\s\S]*?)\{\{\/if\}\}/g, (_, name: string, body: string) =>
      values[name] ? body : "",
    )
    .replace(/\{\{\{(\w+)\}\}\}/g, (_, name: string) => {
      const value = values[name];
      assert.ok(value !== undefined, `template uses {{{${name}}}}, which has no value`);
      return value;
    });
}

/** What Renovate's update writes into `text` for `dep` (its match replaced by the rendered template). */
function applyUpdate(text: string, dep: Extracted, newValue: string, newDigest: string): string {
  assert.ok(
    dep.manager.autoReplaceStringTemplate,
    `${dep.manager.description}: no autoReplaceStringTemplate`,
  );
  assert.equal(text.split(dep.match).length, 2, `the match of ${dep.depName} occurs once`);
  return text.replace(
    dep.match,
    renderReplacement(dep.manager.autoReplaceStringTemplate, { ...dep.groups, newValue, newDigest }),
  );
}

const ENV_FILES = discover(ROOT).environments.map((e) => `Pulumi.${e}.yaml`);

describe("Renovate configuration", () => {
  it("is valid against Renovate's schema, with no option the schema does not define", () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8")) as {
      properties: Record<string, unknown>;
      definitions: Record<string, { items?: { allOf?: Array<{ properties?: Record<string, unknown> }> } }>;
    };
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat("regex", (source: string) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    });
    const validate = ajv.compile(schema);
    assert.ok(validate(config), ajv.errorsText(validate.errors));
    // The schema allows unknown top-level keys; Renovate's validator does not.
    const known = new Set(Object.keys(schema.properties));
    for (const key of Object.keys(config)) {
      assert.ok(known.has(key) || key === "$schema", `unknown option ${key}`);
    }
    const managerKeys = new Set(
      Object.keys(schema.definitions["customManagers"].items!.allOf![0].properties!),
    );
    for (const m of config.customManagers) {
      for (const key of Object.keys(m)) {
        assert.ok(managerKeys.has(key), `unknown custom manager option ${key}`);
      }
      assert.equal(m.customType, "regex");
      m.matchStrings.forEach((s) => new RegExp(s));
    }
    const ruleKeys = new Set(Object.keys(schema.properties).concat(Object.keys(schema.definitions)));
    for (const rule of config.packageRules) {
      for (const key of Object.keys(rule)) {
        assert.ok(ruleKeys.has(key), `unknown package rule option ${key}`);
      }
    }
  });

  it("enables the managers of every kind of pin: npm (package.json, pnpm catalog), action SHAs, custom", () => {
    assert.deepEqual([...config.enabledManagers].sort(), ["custom.regex", "github-actions", "npm"]);
    assert.equal(config.rangeStrategy, "pin");
    // Every catalog entry and every direct dependency outside the workspace is an exact version.
    const workspace = parse(fs.readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8")) as {
      catalog: Record<string, string>;
      packages: string[];
    };
    for (const [name, version] of Object.entries(workspace.catalog)) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `catalog ${name}`);
    }
    const manifests = [
      "package.json",
      ...fs.readdirSync(path.join(ROOT, "packages")).map((d) => `packages/${d}/package.json`),
      ...fs.readdirSync(path.join(ROOT, "policies")).map((d) => `policies/${d}/package.json`),
      "bench/package.json",
    ].filter((f) => fs.existsSync(path.join(ROOT, f)));
    for (const file of manifests) {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as Record<
        string,
        Record<string, string> | undefined
      >;
      for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
        for (const [name, version] of Object.entries(pkg[field] ?? {})) {
          assert.match(
            version,
            /^(catalog:|workspace:\*|\d+\.\d+\.\d+(-[\w.]+)?)$/,
            `${file} ${field}.${name}: ${version}`,
          );
        }
      }
    }
  });

  for (const file of ENV_FILES) {
    it(`finds every pin of ${file}, with the dependency it names`, () => {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      const deps = extract(file, text);
      const pins = pinsOf(path.join(ROOT, file));
      const topology = loadEnvironmentConfigFile(
        path.join(ROOT, file),
        /^Pulumi\.(.+)\.yaml$/.exec(file)![1],
      );
      for (const [key, value] of pins) {
        const found = deps.filter((d) => d.currentValue === value && d.manager.description.includes(key));
        assert.equal(found.length, 1, `${file}: ${key} = ${value} is matched by exactly one manager`);
        const [dep] = found;
        if (key.startsWith("cluster.addons.")) {
          assert.equal(dep.datasource, "aws-eks-addon");
          const filter = JSON.parse(dep.packageName) as { addonName: string; kubernetesVersion: string };
          assert.equal(
            filter.kubernetesVersion,
            topology.cluster.version,
            "add-on builds of the cluster's version",
          );
          assert.equal(filter.addonName, dep.depName);
        } else if (key.startsWith("cluster.charts.")) {
          const chart = key.slice("cluster.charts.".length) as keyof typeof topology.cluster.charts;
          assert.equal(dep.datasource, "helm");
          assert.equal(dep.registryUrl, topology.cluster.charts[chart].repository);
        } else if (key === "data.image") {
          assert.equal(dep.datasource, "docker");
          assert.equal(dep.depName, topology.data.image.repository);
          const versioning = dep.manager.versioningTemplate!.replace(/^regex:/, "");
          assert.match(
            value,
            new RegExp(versioning),
            "the tag fits the versioning Renovate compares tags with",
          );
        } else if (key === "cluster.version") {
          assert.equal(dep.datasource, "endoflife-date");
        }
      }
      // A pin the managers do not know would be one nobody updates: every extracted value is a pin.
      assert.deepEqual(
        deps.map((d) => d.currentValue).sort(),
        [...pins.values()].sort(),
        `${file}: extracted exactly the pins`,
      );
    });

    it(`tracks a changed pin of ${file} (the managers match the layout, not today's values)`, () => {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      const pins = pinsOf(path.join(ROOT, file));
      const bumped = text
        .replace(`vpcCni: ${pins.get("cluster.addons.vpcCni")}`, "vpcCni: v9.9.9-eksbuild.9")
        .replace(/(certManager: \{ repository: "[^"]+", version: )\S+( \})/, "$1v9.9.9$2");
      const values = extract(file, bumped).map((d) => d.currentValue);
      assert.ok(values.includes("v9.9.9-eksbuild.9") && values.includes("v9.9.9"));
      assert.ok(!values.includes(pins.get("cluster.addons.vpcCni")!));
    });
  }

  for (const file of ENV_FILES) {
    it(`pins the digest of every image of ${file}, and a later run reads and moves it`, () => {
      const env = /^Pulumi\.(.+)\.yaml$/.exec(file)![1];
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      const images = extract(file, text).filter((d) => d.datasource === "docker");
      assert.ok(images.length > 0);
      const digest = (c: string) => `sha256:${c.repeat(64)}`;
      let pinned = text;
      for (const dep of images) {
        pinned = applyUpdate(pinned, dep, dep.currentValue, dep.currentDigest ?? digest("a"));
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "renovate-"));
      try {
        const pinnedFile = path.join(dir, file);
        fs.writeFileSync(pinnedFile, pinned);
        // The environment still parses, and every third-party image now carries its digest.
        const topology = loadEnvironmentConfigFile(pinnedFile, env);
        const refs = [topology.data.image, ...Object.values(topology.observability.exporters)];
        for (const image of refs) {
          assert.match(image.digest ?? "", /^sha256:[0-9a-f]{64}$/, `${image.repository} pinned`);
          assert.equal(imageReference(image), `${image.repository}:${image.tag}@${image.digest}`);
        }
        // The next run sees the digest, and a tag update moves tag and digest together.
        const again = extract(file, pinned).filter((d) => d.datasource === "docker");
        assert.deepEqual(
          again.map((d) => [d.depName, d.currentValue, d.currentDigest]),
          images.map((d) => [d.depName, d.currentValue, d.currentDigest ?? digest("a")]),
        );
        const [first] = again;
        const bumped = applyUpdate(pinned, first, `${first.currentValue}-next`, digest("b"));
        const moved = extract(file, bumped).find((d) => d.depName === first.depName)!;
        assert.deepEqual(
          [moved.currentValue, moved.currentDigest],
          [`${first.currentValue}-next`, digest("b")],
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("pins container images by digest (pinDigests on the image dependency type)", () => {
    const rule = config.packageRules.find((r) => JSON.stringify(r["matchDepTypes"]) === '["image"]');
    assert.equal(rule?.["pinDigests"], true);
    for (const m of config.customManagers.filter((c) => c.datasourceTemplate === "docker")) {
      assert.ok(
        m.matchStrings.every((s) => s.includes("(?<currentDigest>")),
        m.description,
      );
      assert.match(m.autoReplaceStringTemplate ?? "", /\{\{#if newDigest\}\}/, m.description);
    }
  });

  it("finds the default images of the config schema", () => {
    const file = "packages/platform/src/config/schema.ts";
    const deps = extract(file, fs.readFileSync(path.join(ROOT, file), "utf8"));
    assert.deepEqual(
      deps.map((d) => [d.depName, d.currentValue, d.datasource]),
      [[DEFAULT_ARCHIVE_COPY_IMAGE.repository, DEFAULT_ARCHIVE_COPY_IMAGE.tag, "docker"]],
    );
  });
});
