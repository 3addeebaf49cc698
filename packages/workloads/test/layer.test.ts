import * as assert from "node:assert/strict";
import {
  checkContract,
  clusterContract,
  drRegions,
  primaryRegion,
  stackId,
  workloadsContract,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  ofType,
  producerValue,
  promotedTopology,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
} from "@hcp/testing";

const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  job: "kubernetes:batch/v1:Job",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
  store: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
  configMap: "kubernetes:core/v1:ConfigMap",
  service: "kubernetes:core/v1:Service",
  smSecret: "aws:secretsmanager/secret:Secret",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  certificate: "aws:acm/certificate:Certificate",
  record: "aws:route53/record:Record",
} as const;

function byName(run: ProgramRun, type: string, name: string): RegisteredResource {
  const found = ofType(run.resources, type).filter((r) => (at(r.inputs, "metadata.name") ?? r.name) === name);
  assert.equal(found.length, 1, `one ${type} named ${name}`);
  return found[0];
}

function envOf(deployment: RegisteredResource): Record<string, unknown> {
  return at(deployment.inputs, "spec.template.spec.containers.0") as Record<string, unknown>;
}

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const primary = primaryRegion(topology).name;
  const dr = drRegions(topology)[0].name;

  describe(`hcp-workloads ${env}-${primary} (primary)`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runLayer({ layer: "workloads", topology, region: primary });
    });

    it("follows the conventions and exports the workloads contract", () => {
      assertConventions(run, { tier: topology.tier });
      const out = checkContract(workloadsContract, stackId("workloads", env, primary), run.outputs.workloads);
      assert.equal(out.mode, "readWrite");
      assert.deepEqual(
        Object.keys(out.services).sort(),
        topology.workloads.services.map((s) => s.name).sort(),
      );
      const hosts = topology.workloads.services.flatMap((s) => s.ingress?.hosts ?? []);
      assert.deepEqual(
        out.publicEndpoints.map((e) => e.hostname).sort(),
        hosts.map((h) => `${h}.${topology.dns.domain}`).sort(),
      );
      for (const e of out.publicEndpoints) {
        assert.equal(
          e.regionalHostname,
          e.hostname.replace(topology.dns.domain, `${primary}.${topology.dns.domain}`),
        );
        assert.equal(e.loadBalancerDnsName, out.loadBalancer.dnsName);
      }
    });

    it("runs each service from its pinned image, with a Deployment per http service", () => {
      for (const s of topology.workloads.services) {
        const d = byName(run, T.deployment, s.name);
        const image = envOf(d).image as string;
        assert.ok(
          s.image.digest
            ? image.endsWith(`/${s.image.repository}@${s.image.digest}`)
            : image.endsWith(`:${s.image.tag}`),
          image,
        );
        if (env === "production") {
          assert.match(image, /@sha256:[a-f0-9]{64}$/);
        }
      }
    });

    it("composes DATABASE_URL with verify-full from the data tier's endpoint and the app role", () => {
      for (const s of topology.workloads.services.filter((x) => x.database.access !== "none")) {
        const es = byName(run, T.externalSecret, `${s.name}-database`);
        const url = at(es.inputs, "spec.target.template.data.DATABASE_URL") as string;
        assert.match(
          url,
          /^postgresql:\/\/\{\{ \.username \| urlquery \}\}:\{\{ \.password \| urlquery \}\}@/,
        );
        assert.match(url, /sslmode=verify-full&sslrootcert=\/etc\/hcp\/database-ca\/ca\.crt$/);
        assert.match(url, /:6432\//);
        const refs = at(es.inputs, "spec.data") as Array<{ remoteRef: { key: string } }>;
        assert.ok(
          refs.every((r) => /:secret:hcp\/[a-z]+\/data\/app/.test(r.remoteRef.key)),
          JSON.stringify(refs),
        );
        const container = envOf(byName(run, T.deployment, s.name));
        assert.ok(JSON.stringify(container.env).includes(`"${s.name}-database"`));
      }
    });

    it("runs the migrations as a Job with the admin role before the services", () => {
      for (const s of topology.workloads.services.filter((x) => x.migrations)) {
        const job = byName(run, T.job, `${s.name}-migrate`);
        assert.deepEqual(at(job.inputs, "spec.template.spec.containers.0.command"), s.migrations!.command);
        const es = byName(run, T.externalSecret, `${s.name}-migrate-database`);
        assert.ok(JSON.stringify(at(es.inputs, "spec.data")).includes("/data/admin"));
        const d = byName(run, T.deployment, s.name);
        assert.ok(
          d.dependencies.includes(job.urn) || run.resources.some((r) => r.urn === job.urn),
          "job registered",
        );
      }
    });

    it("reads the secrets through one ClusterSecretStore (external-secrets.io/v1) of the region", () => {
      const store = ofType(run.resources, T.store);
      assert.equal(store.length, 1);
      assert.equal(at(store[0].inputs, "spec.provider.aws.region"), primary);
      const secrets = ofType(run.resources, T.smSecret).filter((r) =>
        String(r.inputs.name).startsWith(`hcp/${env}/workloads/`),
      );
      assert.equal(secrets.length, topology.workloads.secrets.length);
      for (const s of secrets) {
        assert.deepEqual(
          (s.inputs.replicas as Array<{ region: string }>).map((r) => r.region),
          drRegions(topology).map((r) => r.name),
        );
      }
    });

    it("exposes the services through one ALB group with TLS 1.3, WAF, access logs and HTTPS redirect", () => {
      const ingresses = ofType(run.resources, T.ingress);
      assert.ok(ingresses.length > 0);
      for (const i of ingresses) {
        const a = at(i.inputs, "metadata.annotations") as Record<string, string>;
        assert.equal(a["alb.ingress.kubernetes.io/ssl-policy"], topology.workloads.ingress.sslPolicy);
        assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
        assert.match(a["alb.ingress.kubernetes.io/wafv2-acl-arn"], /^arn:aws:wafv2:/);
        const attrs = a["alb.ingress.kubernetes.io/load-balancer-attributes"];
        assert.match(attrs, /access_logs\.s3\.enabled=true/);
        assert.match(attrs, /routing\.http\.desync_mitigation_mode=strictest/);
        assert.match(attrs, /routing\.http\.drop_invalid_header_fields\.enabled=true/);
        assert.match(attrs, new RegExp(`deletion_protection\\.enabled=${env === "production"}`));
      }
      const rules = at(ofType(run.resources, T.webAcl)[0].inputs, "rules") as Array<Record<string, unknown>>;
      const rate = rules.find((r) => r.name === "rate-limit-per-ip")!;
      assert.equal(
        at(rate, "statement.rateBasedStatement.limit"),
        topology.workloads.ingress.waf.rateLimit.limit,
      );
      const logSse = ofType(run.resources, T.sse).filter((r) => r.name.startsWith("public-logs"));
      assert.equal(at(logSse[0].inputs, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"), "AES256");
      const services = ofType(run.resources, T.service);
      assert.ok(services.every((s) => at(s.inputs, "spec.type") === "ClusterIP"));
    });

    it("exports the ALB the controller created for the group, looked up by the controller's tags", async () => {
      const out = checkContract(workloadsContract, stackId("workloads", env, primary), run.outputs.workloads);
      const lookups = run.mocks.calls.filter((c) => c.token === "aws:lb/getLoadBalancer:getLoadBalancer");
      const cluster = await producerValue(clusterContract, topology, primary);
      // One lookup, by the tags the controller writes on the group's ALB (not by a name: the
      // controller keeps the name an ALB was created with).
      assert.deepEqual(
        lookups.map((c) => c.inputs),
        [
          {
            tags: {
              "elbv2.k8s.aws/cluster": cluster.clusterName,
              "ingress.k8s.aws/stack": topology.workloads.namespace,
              "ingress.k8s.aws/resource": "LoadBalancer",
            },
          },
        ],
      );
      const groups = ofType(run.resources, T.ingress).map(
        (i) =>
          (at(i.inputs, "metadata.annotations") as Record<string, string>)[
            "alb.ingress.kubernetes.io/group.name"
          ],
      );
      assert.deepEqual([...new Set(groups)], [topology.workloads.namespace]);
      assert.match(out.loadBalancer.arnSuffix, /^app\/k8s-[a-z0-9-]+\/[0-9a-f]{16}$/);
      assert.equal(
        out.loadBalancer.arn,
        `arn:aws:elasticloadbalancing:${primary}:${topology.access.accountId}:loadbalancer/${out.loadBalancer.arnSuffix}`,
      );
      // The ALB found is the one whose address the Ingress status reports.
      const name = out.loadBalancer.arnSuffix.split("/")[1];
      assert.ok(
        out.loadBalancer.dnsName.startsWith(`${name}.`),
        `${out.loadBalancer.dnsName} is not ${name}`,
      );
    });

    it("leaves the ALB unknown in the preview of a first deployment instead of looking it up", async () => {
      const preview = await runLayer({ layer: "workloads", topology, region: primary, preview: true });
      assert.deepEqual(
        preview.mocks.calls.filter((c) => c.token === "aws:lb/getLoadBalancer:getLoadBalancer"),
        [],
        "no lookup before the Ingress has an address",
      );
    });

    it("expires LGPD exports after the configured days", () => {
      const rule = ofType(run.resources, T.lifecycle)
        .flatMap((r) => (r.inputs.rules as Array<Record<string, unknown>>) ?? [])
        .find((r) => r.id === "expire-lgpd-exports");
      assert.equal(at(rule, "expiration.days"), topology.workloads.exports.expiryDays);
    });

    it("never lets an application pod reach IMDS", () => {
      for (const p of ofType(run.resources, T.policy)) {
        for (const rule of (at(p.inputs, "spec.egress") as Array<{
          to: Array<{ ipBlock?: { cidr: string; except?: string[] } }>;
        }>) ?? []) {
          for (const peer of rule.to) {
            if (peer.ipBlock && peer.ipBlock.cidr !== "169.254.170.23/32") {
              const covers = peer.ipBlock.cidr === "0.0.0.0/0";
              assert.ok(
                !covers || (peer.ipBlock.except ?? []).includes("169.254.0.0/16"),
                JSON.stringify(peer),
              );
            }
          }
        }
      }
    });
  });

  for (const mode of ["standby", "promoted"] as const) {
    describe(`hcp-workloads ${env}-${dr} (DR, database ${mode})`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runLayer({
          layer: "workloads",
          topology: mode === "standby" ? topology : promotedTopology(topology, dr),
          region: dr,
        });
      });

      it("follows the conventions, runs no migrations and is read-only until promoted", () => {
        assertConventions(run, { tier: topology.tier });
        const out = checkContract(workloadsContract, stackId("workloads", env, dr), run.outputs.workloads);
        assert.equal(out.mode, mode === "standby" ? "readOnly" : "readWrite");
        assert.equal(ofType(run.resources, T.job).length, 0);
        const platform = byName(run, T.configMap, "hcp-platform");
        assert.equal(at(platform.inputs, "data.READ_ONLY_MODE"), String(mode === "standby"));
        // No application secret is created here (the primary's replicas are read by name): the
        // region's only secret is its own cache's AUTH token.
        assert.deepEqual(
          ofType(run.resources, T.smSecret).map((s) => s.inputs.name),
          [`hcp-${env}-${dr}/workloads/cache`],
        );
      });

      it("scales the services by the region's workloadScale", () => {
        const scale = drRegions(topology)[0].sizes.workloadScale;
        for (const s of topology.workloads.services.filter((x) => x.autoscaling)) {
          const hpa = byName(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", s.name);
          assert.equal(
            at(hpa.inputs, "spec.minReplicas"),
            Math.max(1, Math.ceil(s.autoscaling!.minReplicas * scale)),
          );
        }
      });
    });
  }
}
