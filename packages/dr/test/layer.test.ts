import * as assert from "node:assert/strict";
import {
  checkContract,
  dataContract,
  type DataOutputs,
  drContract,
  type DrOutputs,
  drRegions,
  type EnvironmentTopology,
  networkContract,
  type NetworkOutputs,
  primaryRegion,
  stackId,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  ofType,
  one,
  producerValue,
  promotedTopology,
  type ProgramRun,
  redactSecrets,
  type RegisteredResource,
  repoTopology,
  revealSecrets,
  runLayer,
} from "@hcp/testing";
import { parse } from "yaml";
import { replicationHostName, standbySlotName } from "@hcp/postgres";

const T = {
  peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  accepter: "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
  options: "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions",
  route: "aws:ec2/route:Route",
  association: "aws:route53/zoneAssociation:ZoneAssociation",
  record: "aws:route53/record:Record",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  cronJob: "kubernetes:batch/v1:CronJob",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  deployment: "kubernetes:apps/v1:Deployment",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  provider: "pulumi:providers:aws",
} as const;

/** Region of the AWS provider a resource was registered with. */
function providerRegion(run: ProgramRun, r: RegisteredResource): unknown {
  const urn = r.provider?.split("::").slice(0, 4).join("::");
  const provider = ofType(run.resources, T.provider).find((p) => p.urn === urn);
  assert.ok(provider, `${r.type} ${r.name} has no AWS provider`);
  return provider.inputs["region"];
}

interface PatroniYaml {
  readonly bootstrap: {
    readonly dcs: {
      readonly standby_cluster?: Record<string, unknown>;
      readonly slots?: Record<string, unknown>;
    };
  };
  readonly postgresql: { readonly authentication: { readonly replication: { readonly sslmode: string } } };
}

function patroniYaml(run: ProgramRun): PatroniYaml {
  const cm = ofType(run.resources, T.configMap).find(
    (c) => at(c.inputs, "metadata.name") === `patroni-${scopeOf(run)}`,
  );
  assert.ok(cm, "no Patroni ConfigMap");
  return parse((cm.inputs["data"] as Record<string, string>)["patroni.yml"]) as PatroniYaml;
}

/** Container names of a workload's pod template. */
function containerNames(r: RegisteredResource): string[] {
  return (at(r.inputs, "spec.template.spec.containers") as Array<{ name: string }>).map((x) => x.name);
}

function scopeOf(run: ProgramRun): string {
  return (run.outputs["dr"] as DrOutputs).patroniScope;
}

const cases = ["production", "staging"].flatMap((env) => {
  const topology = repoTopology(env);
  return drRegions(topology).map((r) => ({ env, topology, region: r.name }));
});

for (const c of cases) {
  describe(`hcp-dr ${c.env}-${c.region}`, () => {
    const primary = primaryRegion(c.topology);
    let run: ProgramRun;
    let value: DrOutputs;
    let data: DataOutputs;
    let ownNetwork: NetworkOutputs;
    let primaryNetwork: NetworkOutputs;

    before(async () => {
      [data, ownNetwork, primaryNetwork] = await Promise.all([
        producerValue(dataContract, c.topology, primary.name),
        producerValue(networkContract, c.topology, c.region),
        producerValue(networkContract, c.topology, primary.name),
      ]);
      run = await runLayer({ layer: "dr", topology: c.topology, region: c.region });
      value = checkContract(drContract, stackId("dr", c.env, c.region), run.outputs["dr"]);
    });

    it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
      assertConventions(run, {
        tier: c.topology.tier,
        positionalExceptions: [
          {
            name: /^backups-repo\d+(-key)?$/,
            because:
              "pgBackRest names its repositories repo1, repo2, ...: the number is the repository's identity",
          },
        ],
      });
    });

    it("exports the dr contract: local endpoints, standby mode, this region's secrets, bucket and key", () => {
      assert.equal(value.mode, "standby");
      assert.equal(value.region, c.region);
      assert.equal(value.primaryRegion, primary.name);
      assert.equal(value.namespace, data.namespace);
      assert.equal(value.databaseName, data.databaseName);
      assert.equal(value.patroniScope, `pg-${c.region}`);
      assert.equal(value.endpoints.primaryHost, `pg-${c.region}.hcp-data.svc.cluster.local`);
      // The Secrets the DR pods mount keep the primary region's names (the bootstrap Job runs only there).
      assert.deepEqual(value.secrets.kubernetesSecretNames, {
        patroni: data.secrets.kubernetesSecretNames.patroni,
        pgbouncerAuth: data.secrets.kubernetesSecretNames.pgbouncerAuth,
      });
      assert.deepEqual(
        Object.keys(value.secrets.credentialSecretArns).sort(),
        Object.keys(data.secrets.credentialSecretArns).sort(),
      );
      for (const [credential, arn] of Object.entries(value.secrets.credentialSecretArns)) {
        // The replica of the primary's secret: same name and suffix, this region.
        assert.equal(
          arn,
          data.secrets.credentialSecretArns[credential].replace(`:${primary.name}:`, `:${c.region}:`),
        );
      }
      assert.equal(value.kmsKeyArn, data.kmsKeyArns.replicas[c.region]);
      const own = data.backups.repositories.find((r) => r.region === c.region)!;
      assert.equal(value.backups.bucketName, own.bucketName);
      assert.notEqual(value.backups.stanza, data.backups.stanza, "a DR region archives into its own stanza");
      assert.equal(value.replication.host, replicationHostName(c.env, c.region));
      assert.equal(
        value.peeringConnectionId,
        one(run.resources, T.accepter).wireOutputs["vpcPeeringConnectionId"],
      );
      assert.deepEqual(run.secretOutputNames, []);
    });

    it("requests the peering from the DR region and accepts it with the primary region's provider", () => {
      const peering = one(run.resources, T.peering);
      assert.equal(providerRegion(run, peering), c.region);
      assert.equal(peering.inputs["vpcId"], ownNetwork.vpcId);
      assert.equal(peering.inputs["peerVpcId"], primaryNetwork.vpcId);
      assert.equal(peering.inputs["peerRegion"], primary.name);
      assert.equal(peering.inputs["autoAccept"], false);
      const accepter = one(run.resources, T.accepter);
      assert.equal(providerRegion(run, accepter), primary.name);
      assert.equal(accepter.inputs["autoAccept"], true);
      const options = ofType(run.resources, T.options);
      assert.deepEqual(
        options.map((o) => [providerRegion(run, o), o.inputs["requester"] ?? o.inputs["accepter"]]).sort(),
        [
          [c.region, { allowRemoteVpcDnsResolution: true }],
          [primary.name, { allowRemoteVpcDnsResolution: true }],
        ].sort(),
      );
    });

    it("routes exactly the peer VPC block from every private and database table of both VPCs", () => {
      const routes = ofType(run.resources, T.route);
      const expected = [
        ...[...ownNetwork.routeTableIds.private, ...ownNetwork.routeTableIds.database].map((id) => [
          c.region,
          id,
          primary.vpcCidr,
        ]),
        ...[...primaryNetwork.routeTableIds.private, ...primaryNetwork.routeTableIds.database].map((id) => [
          primary.name,
          id,
          c.topology.regions.find((r) => r.name === c.region)!.vpcCidr,
        ]),
      ];
      assert.deepEqual(
        routes
          .map((r) => [providerRegion(run, r), r.inputs["routeTableId"], r.inputs["destinationCidrBlock"]])
          .sort(),
        expected.sort(),
      );
      for (const r of routes) {
        assert.equal(r.inputs["vpcPeeringConnectionId"], value.peeringConnectionId);
        assert.notEqual(r.inputs["destinationCidrBlock"], "0.0.0.0/0");
      }
      const publicTables = new Set([
        ...ownNetwork.routeTableIds.public,
        ...primaryNetwork.routeTableIds.public,
      ]);
      for (const r of routes) {
        assert.ok(
          !publicTables.has(r.inputs["routeTableId"] as string),
          "no peering route in a public table",
        );
      }
    });

    it("joins the private zone and names its own replication endpoint there", () => {
      const association = one(run.resources, T.association);
      assert.deepEqual(
        [association.inputs["zoneId"], association.inputs["vpcId"], association.inputs["vpcRegion"]],
        [data.replication.privateZoneId, ownNetwork.vpcId, c.region],
      );
      const record = one(run.resources, T.record);
      assert.equal(record.inputs["zoneId"], data.replication.privateZoneId);
      assert.equal(record.inputs["name"], value.replication.host);
      assert.equal(record.inputs["type"], "CNAME");
      const nlb = ofType(run.resources, "kubernetes:core/v1:Service").find(
        (s) => at(s.inputs, "spec.type") === "LoadBalancer",
      )!;
      assert.deepEqual(record.inputs["records"], [
        at(nlb.wireOutputs, "status.loadBalancer.ingress[0].hostname"),
      ]);
    });

    it("admits the replication port from the peer CIDRs only", () => {
      const peers = c.topology.regions.filter((r) => r.name !== c.region).map((r) => r.vpcCidr);
      const fromPeers = ofType(run.resources, T.ingress).filter((r) =>
        peers.includes(r.inputs["cidrIpv4"] as string),
      );
      assert.ok(fromPeers.length > 0);
      for (const rule of ofType(run.resources, T.ingress)) {
        assert.notEqual(rule.inputs["cidrIpv4"], "0.0.0.0/0");
        assert.equal(rule.inputs["fromPort"], 5432);
        assert.equal(rule.inputs["toPort"], 5432);
      }
    });

    it("renders a standby cluster of the primary's replication endpoint, verify-full, through its own slot", () => {
      const config = patroniYaml(run);
      const standby = config.bootstrap.dcs.standby_cluster;
      assert.ok(standby, "no standby_cluster");
      assert.equal(standby["host"], data.replication.host);
      assert.equal(standby["port"], data.replication.port);
      assert.equal(standby["primary_slot_name"], standbySlotName(c.region));
      assert.match(
        String(standby["restore_command"]),
        new RegExp(`--stanza=${data.backups.stanza} archive-get`),
      );
      assert.equal(config.postgresql.authentication.replication.sslmode, "verify-full");
      assert.equal(config.bootstrap.dcs.slots, undefined, "a standby keeps no permanent slot");
    });

    it("keeps backups suspended while a standby", () => {
      const schedules = ofType(run.resources, T.cronJob);
      assert.ok(schedules.length > 0);
      for (const s of schedules) {
        assert.equal(at(s.inputs, "spec.suspend"), true, s.name);
      }
    });

    it("writes the replicated passwords only into secret inputs", () => {
      const secrets = ofType(run.resources, T.secret);
      const patroni = secrets.find(
        (s) => at(s.inputs, "metadata.name") === value.secrets.kubernetesSecretNames.patroni,
      )!;
      const stringData = (revealSecrets(patroni.inputs).value as { stringData: Record<string, string> })
        .stringData;
      assert.ok(Object.keys(stringData).length >= 4);
      for (const password of Object.values(stringData)) {
        assert.ok(password.length >= 16);
        for (const r of run.resources) {
          assert.ok(!JSON.stringify(redactSecrets(r.wireInputs)).includes(password), `${r.type} ${r.name}`);
        }
        assert.ok(!JSON.stringify(redactSecrets(run.wireOutputs)).includes(password));
      }
    });

    it("runs the primary's exporters next to the standby and exports their endpoints for this region's monitors", () => {
      // The data tier's endpoints (names, ports, schemes, exporters), selecting this region's cluster.
      const scopeFree = (m: (typeof value.metrics)[number], scope: string, host: string) =>
        JSON.parse(JSON.stringify(m).replaceAll(scope, "<scope>").replaceAll(host, "<host>")) as unknown;
      assert.deepEqual(
        value.metrics.map((m) => scopeFree(m, value.patroniScope, value.endpoints.primaryHost)),
        data.metrics.map((m) => scopeFree(m, data.patroniScope, data.endpoints.primaryHost)),
      );
      const patroniEndpoint = value.metrics.find((m) => m.name === "patroni")!;
      assert.equal(patroniEndpoint.tls?.serverName, value.endpoints.primaryHost);
      assert.ok(Object.values(patroniEndpoint.selector).includes(value.patroniScope));
      const sts = one(run.resources, T.statefulSet);
      const names = new Set(containerNames(sts));
      const pgbouncer = ofType(run.resources, T.deployment).find((d) => d.name === "pgbouncer-deployment")!;
      const backrest = ofType(run.resources, T.deployment).find(
        (d) => d.name === "pgbackrest-exporter-deployment",
      );
      assert.ok(names.has("postgres-exporter"), [...names].join(", "));
      assert.ok(containerNames(pgbouncer).includes("pgbouncer-exporter"));
      assert.ok(backrest, "the pgBackRest exporter runs in the DR region");
      assert.equal(at(backrest.inputs, "spec.template.spec.serviceAccountName"), "pgbackrest");
      // The exporters log in as the metrics role with the primary's (replicated) password.
      const exporter = (
        at(sts.inputs, "spec.template.spec.containers") as Array<Record<string, unknown>>
      ).find((x) => x["name"] === "postgres-exporter")!;
      const secretName = at(
        (exporter["env"] as Array<{ name: string }>).find((e) => e.name === "DATA_SOURCE_PASS"),
        "valueFrom.secretKeyRef.name",
      );
      const monitoring = ofType(run.resources, T.secret).find(
        (s) => at(s.inputs, "metadata.name") === secretName,
      );
      assert.ok(monitoring, `no Secret ${String(secretName)} for the exporters`);
      const login = (revealSecrets(monitoring.inputs).value as { stringData: Record<string, string> })
        .stringData;
      assert.ok(login["password"].length >= 16);
      assert.ok(!JSON.stringify(redactSecrets(monitoring.wireInputs)).includes(login["password"]));
      // The monitoring namespace reaches the exporter ports.
      const policies = Object.fromEntries(
        ofType(run.resources, T.policy).map((p) => [String(at(p.inputs, "metadata.name")), p.inputs]),
      );
      const ingressPorts = (name: string) =>
        (at(policies[name], "spec.ingress") as Array<{ ports: Array<{ port: number }> }>).flatMap((r) =>
          r.ports.map((p) => p.port),
        );
      const port = (endpoint: string) => value.metrics.find((m) => m.name === endpoint)!.port;
      const containerPort = (r: RegisteredResource, container: string, name: string) =>
        (
          at(r.inputs, "spec.template.spec.containers") as Array<{
            name: string;
            ports?: Array<{ name: string; containerPort: number }>;
          }>
        )
          .find((x) => x.name === container)!
          .ports!.find((p) => p.name === name)!.containerPort;
      assert.ok(
        ingressPorts("patroni").includes(containerPort(sts, "postgres-exporter", port("postgres-exporter"))),
      );
      assert.ok(
        ingressPorts("pgbouncer").includes(
          containerPort(pgbouncer, "pgbouncer-exporter", port("pgbouncer-exporter")),
        ),
      );
      assert.ok(
        ingressPorts("pgbackrest-exporter").includes(
          containerPort(backrest, "pgbackrest-exporter", port("pgbackrest-exporter")),
        ),
      );
    });

    it(`${c.topology.tier === "production" ? "protects" : "does not protect"} the standby's volumes`, () => {
      assert.equal(one(run.resources, T.statefulSet).options.protect, c.topology.tier === "production");
    });
  });

  describe(`hcp-dr ${c.env}-${c.region} with dr.promotedRegion = ${c.region}`, () => {
    // A promoted region is the writer: the config requires it at full strength (synchronous mode
    // strict needs 3 members), so the operator scales it up together with setting dr.promotedRegion.
    const promoted: EnvironmentTopology = promotedTopology(c.topology, c.region);
    let run: ProgramRun;

    before(async () => {
      run = await runLayer({ layer: "dr", topology: promoted, region: c.region });
    });

    it("exports mode promoted and renders the writer: no standby_cluster, a permanent slot per other region", () => {
      const value = checkContract(drContract, stackId("dr", c.env, c.region), run.outputs["dr"]);
      assert.equal(value.mode, "promoted");
      const config = patroniYaml(run);
      assert.equal(config.bootstrap.dcs.standby_cluster, undefined);
      assert.deepEqual(
        Object.keys(config.bootstrap.dcs.slots ?? {}).sort(),
        c.topology.regions
          .filter((r) => r.name !== c.region)
          .map((r) => standbySlotName(r.name))
          .sort(),
      );
    });

    it("runs the region's backups", () => {
      for (const s of ofType(run.resources, T.cronJob)) {
        assert.notEqual(at(s.inputs, "spec.suspend"), true, s.name);
      }
    });
  });
}
