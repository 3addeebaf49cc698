import * as assert from "node:assert/strict";
import {
  checkContract,
  dataContract,
  type DataOutputs,
  drRegions,
  type EnvironmentTopology,
  networkContract,
  type NetworkOutputs,
  primaryRegion,
  stackId,
  yearsToDays,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  childrenOf,
  matchState,
  ofType,
  one,
  parsePolicy,
  policyList,
  producerValue,
  type ProgramRun,
  redactSecrets,
  type RegisteredResource,
  repoTopology,
  revealSecrets,
  runLayer,
} from "@hcp/testing";
import { parse } from "yaml";
import { deployMarkers, renderArtifacts, replicationHostName } from "@hcp/postgres";

const T = {
  namespace: "kubernetes:core/v1:Namespace",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  cronJob: "kubernetes:batch/v1:CronJob",
  job: "kubernetes:batch/v1:Job",
  certificate: "kubernetes:cert-manager.io/v1:Certificate",
  issuer: "kubernetes:cert-manager.io/v1:Issuer",
  kmsKey: "aws:kms/key:Key",
  replicaKey: "aws:kms/replicaKey:ReplicaKey",
  bucket: "aws:s3/bucket:Bucket",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  iamRole: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  podIdentity: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  smSecret: "aws:secretsmanager/secret:Secret",
  password: "random:index/randomPassword:RandomPassword",
} as const;

interface Case {
  readonly env: string;
  readonly topology: EnvironmentTopology;
  readonly region: string;
  run?: ProgramRun;
}

const cases: Case[] = ["production", "staging"].map((env) => {
  const topology = repoTopology(env);
  return { env, topology, region: primaryRegion(topology).name };
});

function providerName(r: RegisteredResource): string | undefined {
  return r.provider?.split("::")[3];
}

function podSpec(r: RegisteredResource): Record<string, unknown> {
  return at(r.inputs, "spec.template.spec") as Record<string, unknown>;
}

for (const c of cases) {
  describe(`hcp-data ${c.env}-${c.region}`, () => {
    const production = c.env === "production";
    const region = c.topology.regions.find((r) => r.name === c.region)!;
    const dr = drRegions(c.topology);
    let run: ProgramRun;
    let resources: readonly RegisteredResource[];
    let network: NetworkOutputs;

    before(async () => {
      network = await producerValue(networkContract, c.topology, c.region);
      run = await runLayer({ layer: "data", topology: c.topology, region: c.region });
      resources = run.resources;
      c.run = run;
    });

    it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
      assertConventions(run, {
        tier: c.topology.tier,
        positionalExceptions: [
          {
            name: /^backups-repo\d+$/,
            because:
              "pgBackRest names its repositories repo1, repo2, ...: the number is the repository's identity in pgbackrest.conf",
          },
        ],
      });
    });

    it("gives every AWS, Kubernetes and random resource an explicit provider", () => {
      const custom = resources.filter((r) => r.custom && /^(aws|kubernetes|random):/.test(r.type));
      assert.ok(custom.length > 50);
      for (const r of custom) {
        assert.ok(r.provider, `${r.type} ${r.name} has no explicit provider`);
      }
      assert.equal(ofType(resources, "pulumi:providers:random").length, 1);
    });

    it("exports the data contract with references only", () => {
      const value: DataOutputs = checkContract(
        dataContract,
        stackId("data", c.env, c.region),
        run.outputs["data"],
      );
      assert.equal(value.namespace, "hcp-data");
      assert.equal(value.patroniScope, `pg-${c.region}`);
      assert.equal(value.endpoints.primaryHost, `pg-${c.region}.hcp-data.svc.cluster.local`);
      assert.equal(value.endpoints.pgbouncerPort, 6432);
      assert.equal(value.backups.stanza, `hcp-${c.env}`);
      assert.deepEqual(
        value.backups.repositories.map((r) => [r.index, r.region]),
        [c.region, ...dr.map((r) => r.name)].map((name, i) => [i + 1, name]),
      );
      // A stable private name on the server certificate, pointing at the leader-following NLB.
      assert.equal(value.replication.host, replicationHostName(c.env, c.region));
      const record = one(resources, "aws:route53/record:Record");
      assert.equal(record.inputs["name"], value.replication.host);
      assert.equal(record.inputs["type"], "CNAME");
      const nlb = ofType(resources, "kubernetes:core/v1:Service").find(
        (s) => at(s.inputs, "spec.type") === "LoadBalancer",
      )!;
      assert.deepEqual(record.inputs["records"], [
        at(nlb.wireOutputs, "status.loadBalancer.ingress[0].hostname"),
      ]);
      const zone = one(resources, "aws:route53/zone:Zone");
      assert.equal(value.replication.privateZoneId, zone.wireOutputs["zoneId"]);
      assert.deepEqual(zone.inputs["vpcs"], [{ vpcId: network.vpcId, vpcRegion: c.region }]);
      assert.equal(zone.options.protect, c.topology.tier === "production");
      assert.match(value.tls.caCertificatePem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.equal(
        value.tls.caCertificatePem,
        one(resources, "tls:index/selfSignedCert:SelfSignedCert").wireOutputs["certPem"],
      );
      assert.equal(value.replication.user, "replicator");
      assert.match(value.secrets.appCredentialsSecretArn, /secretsmanager.*hcp\/.*\/data\/app/);
      assert.deepEqual(
        Object.keys(value.kmsKeyArns.replicas),
        dr.map((r) => r.name),
      );
      assert.deepEqual(run.secretOutputNames, []);
    });

    it("never places a generated password in a non-secret input or output", () => {
      const passwords = ofType(resources, T.password).map(
        (p) => (revealSecrets(p.wireOutputs).value as { result: string }).result,
      );
      assert.equal(passwords.length, 9);
      for (const p of passwords) {
        assert.equal(typeof p, "string");
        assert.ok(p.length >= 32);
      }
      let secretHolders = 0;
      for (const r of resources) {
        const visible = JSON.stringify(redactSecrets(r.wireInputs));
        for (const p of passwords) {
          assert.ok(!visible.includes(p), `${r.type} ${r.name} has a password in a non-secret input`);
        }
        const revealed = JSON.stringify(r.inputs);
        if (passwords.some((p) => revealed.includes(p))) {
          secretHolders++;
          assert.ok(r.secretInputPaths.length > 0, `${r.type} ${r.name}`);
        }
      }
      // 9 Secrets Manager versions + 4 Kubernetes Secrets (Patroni, PgBouncer auth_file, bootstrap, metrics role).
      assert.equal(secretHolders, 13);
      const outputs = JSON.stringify(redactSecrets(run.wireOutputs));
      for (const p of passwords) {
        assert.ok(!outputs.includes(p));
      }
    });

    it(`${production ? "protects" : "does not protect"} the stateful resources`, () => {
      const stateful = [
        ...ofType(resources, T.kmsKey),
        ...ofType(resources, T.replicaKey),
        ...ofType(resources, T.bucket),
        ...ofType(resources, T.smSecret),
        ...ofType(resources, T.statefulSet),
      ];
      // 9 credentials + the CA escrow in Secrets Manager.
      assert.equal(stateful.length, 1 + dr.length + (2 + dr.length) + 9 + 1 + 1);
      for (const r of stateful) {
        assert.equal(r.options.protect, production, `${r.type} ${r.name}`);
      }
    });

    it("enforces Pod Security restricted on the namespace", () => {
      const ns = one(resources, T.namespace);
      const labels = at(ns.inputs, "metadata.labels") as Record<string, string>;
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
      assert.equal(labels["pod-security.kubernetes.io/enforce-version"], `v${c.topology.cluster.version}`);
      const pods: Array<[string, unknown]> = [
        ...[
          ...ofType(resources, T.statefulSet),
          ...ofType(resources, T.deployment),
          ...ofType(resources, T.job),
        ].map((r): [string, unknown] => [r.name, podSpec(r)]),
        ...ofType(resources, T.cronJob).map((r): [string, unknown] => [
          r.name,
          at(r.inputs, "spec.jobTemplate.spec.template.spec"),
        ]),
      ];
      // Patroni, PgBouncer, the pgBackRest exporter, the bootstrap Job and three CronJobs.
      assert.equal(pods.length, 7);
      for (const [name, spec] of pods) {
        assert.equal(at(spec, "securityContext.runAsNonRoot"), true, name);
        assert.equal(at(spec, "securityContext.seccompProfile.type"), "RuntimeDefault", name);
        const containers = [
          ...((at(spec, "containers") as Array<Record<string, unknown>>) ?? []),
          ...((at(spec, "initContainers") as Array<Record<string, unknown>> | undefined) ?? []),
        ];
        for (const container of containers) {
          const label = `${name}/${String(container["name"])}`;
          assert.equal(at(container, "securityContext.allowPrivilegeEscalation"), false, label);
          assert.equal(at(container, "securityContext.readOnlyRootFilesystem"), true, label);
          assert.deepEqual(at(container, "securityContext.capabilities.drop"), ["ALL"], label);
          const mounts = (container["volumeMounts"] as Array<{ mountPath: string }>).map((m) => m.mountPath);
          assert.ok(mounts.includes("/tmp"), `${label} has a writable /tmp`);
        }
      }
    });

    it("denies all traffic by default and allows the flows the tier needs", () => {
      const policies = Object.fromEntries(
        ofType(resources, T.policy).map((p) => [at(p.inputs, "metadata.name") as string, p.inputs]),
      );
      assert.deepEqual(Object.keys(policies).sort(), [
        "allow-dns",
        "db-clients",
        "default-deny",
        "patroni",
        "pgbackrest-exporter",
        "pgbouncer",
      ]);
      assert.deepEqual(at(policies["default-deny"], "spec"), {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
      });
      const patroniIngress = at(policies["patroni"], "spec.ingress") as Array<{
        from: unknown[];
        ports: Array<{ port: number }>;
      }>;
      const pg = patroniIngress.find((r) => r.ports.some((p) => p.port === 5432))!;
      const blocks = pg.from.map((f) => at(f, "ipBlock.cidr")).filter((x) => x !== undefined);
      assert.deepEqual(
        blocks,
        dr.map((r) => r.vpcCidr),
      );
      const pgbouncer = at(policies["pgbouncer"], "spec.ingress[0]") as { ports: Array<{ port: number }> };
      assert.deepEqual(
        pgbouncer.ports.map((p) => p.port),
        [6432],
      );
      assert.ok(JSON.stringify(patroniIngress).includes("8432"));
    });

    it("creates a multi-region key and a replica in each DR region with that region's provider", () => {
      assert.equal(one(resources, T.kmsKey).inputs["multiRegion"], true);
      const replicas = ofType(resources, T.replicaKey);
      assert.deepEqual(
        replicas.map(providerName),
        dr.map((r) => `aws-${r.name}`),
      );
    });

    it("puts repo1 in the region and repo2 in the DR region, the archive under COMPLIANCE lock", () => {
      const buckets = ofType(resources, T.bucket);
      const byPrefix = (p: string) => buckets.filter((b) => String(b.inputs["bucketPrefix"]).includes(p));
      const repos = byPrefix("pgbackrest");
      assert.deepEqual(
        repos.map(providerName),
        [c.region, ...dr.map((r) => r.name)].map((n) => `aws-${n}`),
      );
      for (const b of repos) {
        assert.equal(b.inputs["objectLockEnabled"], false, "pgBackRest repositories are not locked");
      }
      const [archive] = byPrefix("archive");
      assert.equal(archive.inputs["objectLockEnabled"], true);
      const lock = one(resources, T.objectLock);
      assert.deepEqual(at(lock.inputs, "rule.defaultRetention"), {
        mode: "COMPLIANCE",
        days: yearsToDays(c.topology.retention.clinicalRecordYears),
      });
      const encryption = ofType(
        resources,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      );
      const drEnc = encryption.find((e) => providerName(e) === `aws-${dr[0].name}`)!;
      assert.match(
        String(at(drEnc.inputs, "rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId")),
        new RegExp(`kms:${dr[0].name}:.*mrk-`),
      );
    });

    it("binds pgBackRest's Pod Identity role to its two service accounts of this cluster's namespace only", () => {
      const role = one(resources, T.iamRole);
      const trust = parsePolicy(role.inputs["assumeRolePolicy"]);
      assert.deepEqual(trust.Statement[0].Principal, { Service: "pods.eks.amazonaws.com" });
      const associations = ofType(resources, T.podIdentity);
      const clusterName = String(associations[0].inputs["clusterName"]);
      assert.match(clusterName, new RegExp(`${c.env}.*${c.region}`));
      assert.deepEqual(trust.Statement[0].Condition, {
        StringEquals: {
          "aws:SourceAccount": c.topology.access.accountId,
          "aws:RequestTag/eks-cluster-arn": `arn:aws:eks:${c.region}:${c.topology.access.accountId}:cluster/${clusterName}`,
          "aws:RequestTag/kubernetes-namespace": "hcp-data",
          "aws:RequestTag/kubernetes-service-account": [`pg-${c.region}`, "pgbackrest"],
        },
      });
      assert.deepEqual(
        associations.map((a) => [a.name, a.inputs["serviceAccount"], a.inputs["roleArn"]]).sort(),
        [
          [`backups-role-pg-${c.region}`, `pg-${c.region}`, at(role.wireOutputs, "arn")],
          ["backups-role-pgbackrest", "pgbackrest", at(role.wireOutputs, "arn")],
        ],
      );
    });

    it("grants the role exactly the repositories (read-write), the archive (read, put) and the keys through S3", () => {
      const role = one(resources, T.iamRole);
      const policies = ofType(resources, T.rolePolicy);
      for (const p of policies) {
        assert.equal(p.inputs["role"], at(role.wireOutputs, "name"), p.name);
      }
      const granted = (resource: string) =>
        policies.flatMap((p) =>
          parsePolicy(p.inputs["policy"])
            .Statement.filter((s) => policyList(s.Resource).includes(resource))
            .flatMap((s) => policyList(s.Action)),
        );
      const arnOf = (r: RegisteredResource) => String(at(r.wireOutputs, "arn"));
      const buckets = ofType(resources, T.bucket);
      const archive = buckets.find((b) => String(b.inputs["bucketPrefix"]).includes("archive"))!;
      for (const b of buckets) {
        assert.deepEqual(granted(arnOf(b)).sort(), ["s3:GetBucketLocation", "s3:ListBucket"], b.name);
        assert.deepEqual(
          granted(`${arnOf(b)}/*`).sort(),
          b === archive
            ? ["s3:GetObject", "s3:PutObject"]
            : ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
          b.name,
        );
      }
      const keys = [...ofType(resources, T.kmsKey), ...ofType(resources, T.replicaKey)];
      assert.equal(keys.length, 1 + dr.length);
      for (const k of keys) {
        const statements = policies.flatMap((p) =>
          parsePolicy(p.inputs["policy"]).Statement.filter((s) => s.Resource === arnOf(k)),
        );
        assert.equal(statements.length, 1, k.name);
        const keyRegion = k.type === T.kmsKey ? c.region : providerName(k)!.replace(/^aws-/, "");
        assert.deepEqual(statements[0].Condition, {
          StringEquals: { "kms:ViaService": `s3.${keyRegion}.amazonaws.com` },
        });
        assert.deepEqual(policyList(statements[0].Action), [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
        ]);
      }
      const everything = policies.flatMap((p) => parsePolicy(p.inputs["policy"]).Statement);
      assert.ok(everything.every((st) => st.Effect === "Allow" && !policyList(st.Resource).includes("*")));
      const covered = new Set(everything.flatMap((st) => policyList(st.Resource)));
      assert.equal(
        covered.size,
        buckets.length * 2 + keys.length,
        "nothing but the buckets, objects and keys",
      );
    });

    it("starts the members after the backup IAM and the bootstrap Job after the members", () => {
      const sts = one(resources, T.statefulSet);
      for (const name of [
        "backups-role",
        "backups-repo1-read-write-backups-role",
        "data-key-encrypt-decrypt-backups-role",
      ]) {
        const dep = resources.find((r) => r.name === name && r.custom)!;
        assert.ok(sts.dependencies.includes(dep.urn), `the StatefulSet waits for ${name}`);
      }
      for (const r of [one(resources, T.job), ...ofType(resources, T.cronJob)]) {
        assert.ok(r.dependencies.includes(sts.urn), `${r.name} waits for the StatefulSet`);
      }
    });

    it("keeps the state of every stateful resource it had before the libraries existed", () => {
      const urn = (chain: string, name: string) =>
        `urn:pulumi:${c.env}-${c.region}::hcp-data::${chain}::${name}`;
      // Children inherit a component's alias only when the component itself took over its old state,
      // so the old components are part of it.
      const before = [
        urn("hcp:data:PatroniCluster", "patroni"),
        urn("hcp:data:Keys", "data-key"),
        urn("hcp:data:Keys$hcp:platform:KmsKey", "data-key"),
        urn("hcp:data:Secrets", "credentials"),
        urn("hcp:data:Namespace", "namespace"),
        urn("hcp:data:BackupStorage", "backups"),
        ...["archive", "repo1", ...dr.map((_, i) => `repo${i + 2}`)].map((b) =>
          urn("hcp:data:BackupStorage$hcp:platform:SecureBucket", `backups-${b}`),
        ),
        urn("hcp:data:PatroniCluster$kubernetes:apps/v1:StatefulSet", "patroni-statefulset"),
        urn("hcp:data:Keys$hcp:platform:KmsKey$aws:kms/key:Key", "data-key"),
        ...dr.map((r) => urn("hcp:data:Keys$aws:kms/replicaKey:ReplicaKey", `data-key-${r.name}`)),
        ...["archive", "repo1", ...dr.map((_, i) => `repo${i + 2}`)].map((b) =>
          urn("hcp:data:BackupStorage$hcp:platform:SecureBucket$aws:s3/bucket:Bucket", `backups-${b}`),
        ),
        ...["superuser", "replication", "app"].map((cred) =>
          urn("hcp:data:Secrets$aws:secretsmanager/secret:Secret", `credentials-${cred}`),
        ),
        urn("hcp:data:Secrets$kubernetes:core/v1:Secret", "credentials-patroni"),
        urn("hcp:data:BackupStorage$aws:iam/role:Role", "backups-role"),
        urn(
          "hcp:data:BackupStorage$aws:eks/podIdentityAssociation:PodIdentityAssociation",
          "backups-identity-0",
        ),
        urn(
          "hcp:data:BackupStorage$aws:eks/podIdentityAssociation:PodIdentityAssociation",
          "backups-identity-1",
        ),
        urn("hcp:data:Namespace$kubernetes:core/v1:Namespace", "namespace"),
      ];
      const { matches, deleted, conflicts } = matchState(resources, before);
      assert.deepEqual(deleted, []);
      assert.deepEqual(conflicts, []);
      const taken = matches.filter((m) => m.old !== undefined).map((m) => m.old);
      assert.deepEqual(new Set(taken), new Set(before));
      const association = matches.find((m) => m.old?.endsWith("::backups-identity-1"))!;
      assert.match(association.urn, /::backups-role-pgbackrest$/);
    });

    it("gives Patroni exactly what the Kubernetes DCS needs in ConfigMaps mode", () => {
      const rules = one(resources, T.role).inputs["rules"] as Array<{ resources: string[]; verbs: string[] }>;
      assert.deepEqual(
        rules.map((r) => [r.resources.join(), [...r.verbs].sort().join()]),
        [
          ["configmaps", "create,get,list,patch,update,watch"],
          ["pods", "get,list,patch,update,watch"],
          ["services", "create"],
        ],
      );
      assert.ok(!JSON.stringify(rules).includes("endpoints"));
      assert.ok(!JSON.stringify(rules).includes("delete"));
    });

    it("runs the members on the database nodes, spread over zones, with the rendered configuration", () => {
      const sts = one(resources, T.statefulSet);
      assert.equal(at(sts.inputs, "spec.replicas"), region.sizes.databaseMembers);
      const spec = podSpec(sts);
      const image = `${c.topology.data.image.repository}:${c.topology.data.image.tag}`;
      assert.equal(at(spec, "containers[0].image"), image);
      assert.deepEqual(spec["tolerations"], [
        { key: "hcp.io/dedicated", operator: "Equal", value: "database", effect: "NoSchedule" },
      ]);
      assert.deepEqual(
        at(
          spec,
          "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions",
        ),
        [{ key: "hcp.io/node-group", operator: "In", values: ["database"] }],
      );
      assert.equal(at(spec, "topologySpreadConstraints[0].topologyKey"), "topology.kubernetes.io/zone");
      assert.equal(
        at(spec, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
        "kubernetes.io/hostname",
      );
      assert.equal(at(sts.inputs, "spec.volumeClaimTemplates[0].spec.storageClassName"), "gp3-encrypted");
      assert.equal(
        at(sts.inputs, "spec.volumeClaimTemplates[0].spec.resources.requests.storage"),
        `${c.topology.data.storageGiB}Gi`,
      );
      assert.equal(
        at(spec, "containers[0].readinessProbe.httpGet.path"),
        `/readiness?lag=${c.topology.data.patroni.maximumLagOnFailoverBytes}`,
      );
      assert.equal(at(spec, "containers[0].livenessProbe.httpGet.path"), "/liveness");
      const sizing = renderArtifacts(c.topology, c.region).sizing.container;
      assert.equal(at(spec, "containers[0].resources.limits.memory"), `${sizing.memoryMiB}Mi`);
      const env = at(spec, "containers[0].env") as Array<{
        name: string;
        value?: string;
        valueFrom?: unknown;
      }>;
      const password = env.find((e) => e.name === "PATRONI_SUPERUSER_PASSWORD")!;
      assert.equal(password.value, undefined);
      assert.equal(at(password, "valueFrom.secretKeyRef.name"), "patroni-credentials");

      const yaml = ofType(resources, T.configMap)
        .map((m) => (m.inputs["data"] as Record<string, string>)["patroni.yml"])
        .find((x) => x !== undefined)!;
      assert.equal(yaml, renderArtifacts(c.topology, c.region).patroni.yaml);
      assert.equal(at(parse(yaml), "kubernetes.use_endpoints"), false);
      const pdb = ofType(resources, T.pdb).find((p) => at(p.inputs, "metadata.name") === `pg-${c.region}`)!;
      assert.equal(at(pdb.inputs, "spec.maxUnavailable"), 1);
    });

    it("fills the deployed bucket names and key ARNs into the pgBackRest files", () => {
      for (const cm of ofType(resources, T.configMap)) {
        const conf = (cm.inputs["data"] as Record<string, string>)["pgbackrest.conf"];
        if (conf !== undefined) {
          assert.deepEqual(deployMarkers(conf), [], String(at(cm.inputs, "metadata.name")));
          assert.match(conf, /repo1-s3-bucket=hcp-/);
        }
      }
    });

    it("selects the leader by its explicit role label and follows it with an internal NLB", () => {
      const services = Object.fromEntries(
        ofType(resources, T.service).map((s) => [at(s.inputs, "metadata.name") as string, s.inputs]),
      );
      const scope = `pg-${c.region}`;
      assert.equal(at(services[scope], "spec.selector.role"), "primary");
      assert.equal(at(services[`${scope}-replicas`], "spec.selector.role"), "replica");
      assert.equal(at(services[`${scope}-config`], "spec.clusterIP"), "None");
      const nlb = services[`${scope}-replication`];
      assert.equal(at(nlb, "spec.type"), "LoadBalancer");
      assert.equal(at(nlb, "spec.selector.role"), "primary");
      const annotations = at(nlb, "metadata.annotations") as Record<string, string>;
      assert.equal(annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal");
      assert.equal(annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
      // The lock holder answers /leader as a primary and as a standby leader alike: a promotion or a
      // fencing through the dynamic configuration keeps the endpoint working before any deploy.
      assert.equal(annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"], "/leader");
      const firewall = one(resources, "aws:ec2/securityGroup:SecurityGroup");
      assert.equal(annotations["service.beta.kubernetes.io/aws-load-balancer-security-groups"], firewall.id);
      assert.equal(
        annotations["service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules"],
        "true",
      );
      const ingress = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
      assert.deepEqual(
        ingress.map((r) => [r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"]]),
        dr.map((r) => [r.vpcCidr, 5432, 5432]),
        "only PostgreSQL, only from the other regions' VPCs",
      );
      const egress = ofType(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
      assert.deepEqual(egress.map((r) => [r.inputs["cidrIpv4"], r.inputs["fromPort"]]).sort(), [
        [region.vpcCidr, 5432],
        [region.vpcCidr, 8008],
      ]);
      assert.equal(annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"], undefined);
      assert.match(annotations["service.beta.kubernetes.io/aws-load-balancer-subnets"], /^subnet-.*,subnet-/);
      assert.deepEqual(
        at(nlb, "spec.loadBalancerSourceRanges"),
        dr.map((r) => r.vpcCidr),
      );
    });

    it("runs PgBouncer with the configured replicas, spread, a PDB and the rendered ini", () => {
      const deploy = ofType(resources, T.deployment).find((d) => d.name === "pgbouncer-deployment")!;
      assert.equal(at(deploy.inputs, "spec.replicas"), region.sizes.pgbouncerReplicas);
      const keys = (podSpec(deploy)["topologySpreadConstraints"] as Array<{ topologyKey: string }>).map(
        (t) => t.topologyKey,
      );
      assert.deepEqual(keys, ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
      const ini = ofType(resources, T.configMap)
        .map((m) => (m.inputs["data"] as Record<string, string>)["pgbouncer.ini"])
        .find((x) => x !== undefined)!;
      assert.match(ini, new RegExp(`max_client_conn = ${c.topology.data.pgbouncer.maxClientConnections}\\n`));
      assert.ok(ofType(resources, T.pdb).some((p) => at(p.inputs, "metadata.name") === "pgbouncer"));
    });

    it("issues TLS certificates from a namespace CA for PostgreSQL, PgBouncer and the backup client", () => {
      const certs = ofType(resources, T.certificate).map((r) => r.inputs);
      assert.deepEqual(certs.map((x) => at(x, "spec.secretName")).sort(), [
        "pgbackrest-client-tls",
        "pgbouncer-tls",
        "postgres-tls",
      ]);
      const pg = certs.find((x) => at(x, "spec.secretName") === "postgres-tls")!;
      assert.ok(
        (at(pg, "spec.dnsNames") as string[]).includes(`*.pg-${c.region}-config.hcp-data.svc.cluster.local`),
      );
      assert.ok((at(pg, "spec.dnsNames") as string[]).includes(replicationHostName(c.env, c.region)));
      assert.equal(at(pg, "spec.issuerRef.name"), "data-ca");
      // One CA Issuer, signing with the CA the program generated (its key is a secret input only).
      const [issuer] = ofType(resources, T.issuer);
      assert.equal(ofType(resources, T.issuer).length, 1);
      assert.equal(at(issuer.inputs, "spec.ca.secretName"), "data-ca-keypair");
      const keypair = ofType(resources, "kubernetes:core/v1:Secret").find(
        (x) => at(x.inputs, "metadata.name") === "data-ca-keypair",
      )!;
      assert.ok(
        keypair.secretInputPaths.some((p) => p.startsWith("stringData")),
        "CA key is a secret input",
      );
      const ca = one(resources, "tls:index/selfSignedCert:SelfSignedCert");
      assert.equal(ca.inputs["isCaCertificate"], true);
    });

    it("schedules full and differential backups from the config and a yearly archive copy", () => {
      const crons = Object.fromEntries(
        ofType(resources, T.cronJob).map((j) => [at(j.inputs, "metadata.name") as string, j.inputs]),
      );
      assert.equal(at(crons["pgbackrest-full"], "spec.schedule"), c.topology.data.backup.fullSchedule);
      assert.equal(at(crons["pgbackrest-diff"], "spec.schedule"), c.topology.data.backup.diffSchedule);
      assert.equal(at(crons["pgbackrest-full"], "spec.concurrencyPolicy"), "Forbid");
      const fullScript = String(
        (
          at(
            crons["pgbackrest-full"],
            "spec.jobTemplate.spec.template.spec.containers[0].command",
          ) as string[]
        )[2],
      );
      assert.match(fullScript, /--repo=1 --type=full backup && .*--repo=2 --type=full backup/);
      const copy = String(
        (
          at(
            crons["pgbackrest-yearly"],
            "spec.jobTemplate.spec.template.spec.containers[0].command",
          ) as string[]
        )[2],
      );
      assert.match(copy, /aws s3 cp --recursive --sse aws:kms/);
      assert.match(copy, /s3:\/\/hcp-.*-archive-/);
    });

    it("bootstraps the SQL with a Job that uses the rendered files", () => {
      const job = one(resources, T.job);
      assert.match(String(at(job.inputs, "metadata.name")), /^bootstrap-[0-9a-f]{10}$/);
      const sqlMap = ofType(resources, T.configMap).find((m) =>
        String(at(m.inputs, "metadata.name")).startsWith("bootstrap-sql-"),
      )!;
      assert.deepEqual(sqlMap.inputs["data"], renderArtifacts(c.topology, c.region).sql.files);
      const envFrom = at(podSpec(job), "containers[0].envFrom[0].secretRef.name");
      assert.equal(envFrom, "bootstrap-credentials");
    });

    it("stores every credential and the CA in Secrets Manager, replicated to the DR regions with their replica keys", () => {
      const replicaKeys = Object.fromEntries(
        ofType(resources, T.replicaKey).map((k) => [k.provider!.split("::")[3].replace(/^aws-/, ""), k]),
      );
      const names = ofType(resources, T.smSecret).map((s) => String(s.inputs["name"]).split("/").pop());
      assert.deepEqual(names.sort(), [
        "admin",
        "app",
        "ca",
        "monitoring",
        "pgbouncerAuth",
        "reader",
        "replication",
        "restApi",
        "rewind",
        "superuser",
      ]);
      for (const s of ofType(resources, T.smSecret)) {
        assert.match(String(s.inputs["kmsKeyId"]), /mrk-/);
        const replicas = s.inputs["replicas"] as Array<{ region: string; kmsKeyId: string }>;
        assert.deepEqual(
          replicas.map((r) => r.region),
          dr.map((r) => r.name),
          String(s.inputs["name"]),
        );
        for (const r of replicas) {
          assert.ok(Object.keys(replicaKeys).length > 0);
          assert.match(
            r.kmsKeyId,
            new RegExp(`:kms:${r.region}:.*mrk-`),
            `${String(s.inputs["name"])} in ${r.region}`,
          );
        }
      }
      // The escrow holds the CA the certificates are signed with, and only as a secret.
      const escrow = ofType(resources, "aws:secretsmanager/secretVersion:SecretVersion").find((v) =>
        String(v.name).includes("ca-escrow"),
      )!;
      assert.ok(escrow.secretInputPaths.includes("secretString"));
      const value = JSON.parse(String(escrow.inputs["secretString"])) as Record<string, string>;
      assert.equal(
        value["certificatePem"],
        one(resources, "tls:index/selfSignedCert:SelfSignedCert").wireOutputs["certPem"],
      );
      assert.match(value["privateKeyPem"], /PRIVATE KEY/);
      const secrets = childrenOf(resources, one(resources, "hcp:postgres:DatabaseSecrets"));
      assert.equal(secrets.filter((r) => r.type === T.secret).length, 4);
    });

    it("runs the exporters next to the database pods and exports their endpoints in the contract", () => {
      const value = run.outputs["data"] as DataOutputs;
      assert.deepEqual(
        value.metrics.map((m) => [m.name, m.kind, m.port, m.scheme]),
        [
          ["patroni", "pod", "patroni", "https"],
          ["postgres-exporter", "pod", "pg-metrics", "http"],
          ["pgbouncer-exporter", "pod", "metrics", "http"],
          ["pgbackrest-exporter", "pod", "metrics", "http"],
        ],
      );
      const patroniMetrics = value.metrics[0];
      assert.deepEqual(patroniMetrics.tls, {
        ca: { name: "postgres-tls", key: "ca.crt" },
        serverName: value.endpoints.primaryHost,
      });
      // Patroni serves GET /metrics without auth: Prometheus never holds the REST (switchover) password.
      assert.equal(patroniMetrics.basicAuth, null);
      const sts = one(resources, T.statefulSet);
      const containers = at(podSpec(sts), "containers") as Array<Record<string, unknown>>;
      const exporter = containers.find((x) => x["name"] === "postgres-exporter")!;
      const image = c.topology.observability.exporters.postgres;
      assert.equal(exporter["image"], `${image.repository}:${image.tag}`);
      assert.deepEqual(at(exporter, "ports[0]"), { name: "pg-metrics", containerPort: 9187 });
      const env = exporter["env"] as Array<{ name: string; value?: string; valueFrom?: unknown }>;
      assert.match(
        env.find((e) => e.name === "DATA_SOURCE_URI")!.value!,
        /host=\/var\/run\/postgresql&sslmode=disable$/,
      );
      assert.deepEqual(
        at(
          env.find((e) => e.name === "DATA_SOURCE_PASS"),
          "valueFrom.secretKeyRef",
        ),
        {
          name: "monitoring-credentials",
          key: "password",
        },
      );
      const pgbouncer = ofType(resources, T.deployment).find((d) => d.name === "pgbouncer-deployment")!;
      const names = (at(podSpec(pgbouncer), "containers") as Array<{ name: string }>).map((x) => x.name);
      assert.deepEqual(names, ["pgbouncer", "pgbouncer-exporter"]);
      const backrest = ofType(resources, T.deployment).find(
        (d) => d.name === "pgbackrest-exporter-deployment",
      )!;
      assert.equal(at(podSpec(backrest), "serviceAccountName"), "pgbackrest");
      assert.equal(
        at(backrest.inputs, "spec.template.metadata.labels")!["hcp.io/db-client" as never],
        "true",
      );
      // The monitoring namespace reaches the exporter ports, nothing else does.
      const policies = Object.fromEntries(
        ofType(resources, T.policy).map((p) => [String(at(p.inputs, "metadata.name")), p.inputs]),
      );
      const ingressPorts = (name: string) =>
        (at(policies[name], "spec.ingress") as Array<{ ports: Array<{ port: number }> }>).flatMap((r) =>
          r.ports.map((p) => p.port),
        );
      assert.ok(ingressPorts("patroni").includes(9187));
      assert.ok(ingressPorts("pgbouncer").includes(9127));
      assert.deepEqual(ingressPorts("pgbackrest-exporter"), [9854]);
    });
  });
}
