import * as assert from "node:assert/strict";
import { resourceRule, stackRule } from "../src/policy";
import {
  ALL_CONTROLS,
  HIPAA_SECTIONS,
  LGPD_ARTICLES,
  missingControlMetadata,
  RULES,
  ruleCatalog,
} from "../src/lib";

/**
 * Every rule names the HIPAA sections / LGPD articles it implements, links the documentation of the
 * setting it checks, and declares the properties its verdict depends on (the evidence report shows
 * them). A rule without them fails here with the sentence saying what to add.
 */

describe("controls", () => {
  it("every rule declares its controls, a documentation link and the evidence of each examined type", () => {
    const problems = RULES.flatMap(missingControlMetadata);
    assert.deepEqual(problems, [], `\n${problems.join("\n")}\n`);
  });

  it("says exactly what to add to a rule without control metadata", () => {
    const bare = resourceRule({
      name: "example-bare",
      concern: "tagging",
      description: "An example rule without control metadata, for this test only.",
      remediationSteps: "Nothing to do: this rule is not part of the pack.",
      severity: "low",
      enforcementLevel: "advisory",
      checks: { "aws:kms/key:Key": () => undefined },
    });
    assert.deepEqual(missingControlMetadata(bare), [
      "rule 'example-bare' (concern tagging, defined under policies/healthcare/src/policies/) has no controls: add controls: { hipaa: [<sections of HIPAA_SECTIONS>], lgpd: [<articles of LGPD_ARTICLES>], docs: [<https link to the AWS/Kubernetes documentation of the setting>] } to its spec (ids in policies/healthcare/src/controls.ts).",
      `rule 'example-bare' (concern tagging, defined under policies/healthcare/src/policies/) examines aws:kms/key:Key but declares no evidence for it: add evidence: { properties: { "aws:kms/key:Key": ["<argument the verdict depends on>", ...] } }.`,
    ]);
    const stack = stackRule({
      name: "example-stack",
      concern: "coverage",
      description: "An example stack rule over every resource, for this test only.",
      remediationSteps: "Nothing to do: this rule is not part of the pack.",
      severity: "low",
      enforcementLevel: "advisory",
      controls: { hipaa: [], lgpd: [], docs: ["http://example.com"] },
      examines: [],
      validate: () => undefined,
    });
    assert.deepEqual(
      missingControlMetadata(stack).map((p) => p.replace(/^rule 'example-stack' \([^)]*\) /, "")),
      [
        "names no control: add the HIPAA sections (controls.hipaa) and/or LGPD articles (controls.lgpd) it implements.",
        "has a documentation link that is not an https URL: 'http://example.com'.",
        'checks resources of any type but declares no generic evidence: add evidence: { generic: ["<property>", "provider:<property>", "option:<option>"] }.',
      ],
    );
  });

  it("cites a source for every section and article, and names them as reports do", () => {
    for (const [id, s] of [...Object.entries(HIPAA_SECTIONS), ...Object.entries(LGPD_ARTICLES)]) {
      assert.match(s.source, /^https:\/\//, id);
      assert.ok(s.title.length > 10, id);
    }
    assert.ok(ALL_CONTROLS.some((c) => c.id === "HIPAA §164.312(e)(1)"));
    assert.ok(ALL_CONTROLS.some((c) => c.id === "LGPD Art. 33"));
  });

  it("maps the transmission and residency rules to the sections they implement", () => {
    const catalog = ruleCatalog();
    const ids = (name: string) => catalog.find((r) => r.name === name)?.controls.map((c) => c.id) ?? [];
    assert.ok(ids("s3-tls-only-bucket-policy").includes("HIPAA §164.312(e)(1)"));
    assert.deepEqual(ids("phi-cross-border-copy"), ["LGPD Art. 33"]);
    assert.ok(ids("s3-sse-kms-customer-key").includes("HIPAA §164.312(a)(2)(iv)"));
    assert.ok(ids("cloudtrail-audit-trail").includes("HIPAA §164.312(b)"));
  });

  it("publishes the catalog as plain JSON (what the plan loads)", () => {
    const catalog = ruleCatalog();
    assert.deepEqual(JSON.parse(JSON.stringify(catalog)), catalog);
    assert.deepEqual(
      catalog.map((r) => r.name),
      RULES.map((r) => r.policy.name),
    );
    const tls = catalog.find((r) => r.name === "s3-tls-only-bucket-policy");
    assert.deepEqual(tls?.evidence.properties["aws:s3/bucketPolicy:BucketPolicy"], ["bucket", "policy"]);
  });
});
