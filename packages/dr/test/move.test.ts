import * as assert from "node:assert/strict";
import { drRegions, type EnvironmentTopology, primaryRegion } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import { replicationDynamicConfig, replicationHostName, withWriter } from "@hcp/postgres";
import { parseDrArgs, runDrCommand, UsageError } from "../src/cli/main";
import { type MoveArgs, moveWriter, PreconditionError } from "../src/promotion/move";
import type { MemberState, PatroniApi } from "../src/promotion/patroniApi";

/**
 * A cluster leader as Patroni 3.0 behaves through its dynamic configuration: a `standby_cluster`
 * makes the leader a standby leader (it stops writing), removing it promotes the leader. WAL
 * positions move as the test says; every PATCH is recorded with a sequence number.
 */
class FakeLeader implements PatroniApi {
  config_: Record<string, unknown>;
  state: MemberState;
  readonly patches: Array<{ seq: number; body: Record<string, unknown> }> = [];
  constructor(
    readonly description: string,
    role: "master" | "standby_leader",
    config: Record<string, unknown>,
    private readonly clock: { seq: number },
    location: number,
    replayedAt: string | null = null,
  ) {
    this.config_ = config;
    this.state = {
      state: "running",
      role,
      timeline: 1,
      xlog:
        role === "master"
          ? { location }
          : { received_location: location, replayed_location: location, replayed_timestamp: replayedAt },
    };
  }
  status(): Promise<MemberState> {
    return Promise.resolve(this.state);
  }
  config(): Promise<Record<string, unknown>> {
    return Promise.resolve(this.config_);
  }
  patchConfig(body: Readonly<Record<string, unknown>>): Promise<void> {
    this.patches.push({ seq: ++this.clock.seq, body: { ...body } });
    for (const [k, v] of Object.entries(body)) {
      if (v === null) delete this.config_[k];
      else this.config_[k] = v;
    }
    const location = Math.max(this.state.xlog?.location ?? 0, this.state.xlog?.replayed_location ?? 0);
    if ("standby_cluster" in body) {
      this.state =
        body["standby_cluster"] === null
          ? { state: "running", role: "master", timeline: (this.state.timeline ?? 1) + 1, xlog: { location } }
          : // Demotion writes a shutdown checkpoint: the WAL ends a little further on.
            {
              state: "running",
              role: "standby_leader",
              timeline: this.state.timeline,
              xlog: {
                received_location: location + 120,
                replayed_location: location + 120,
                replayed_timestamp: null,
              },
            };
    }
    return Promise.resolve();
  }
}

const topology = repoTopology("production");
const primary = primaryRegion(topology).name;
const dr = drRegions(topology)[0].name;
const NOW = Date.parse("2026-06-01T12:00:00Z");

function clusters(
  t: EnvironmentTopology,
  writer: string,
  standby: string,
  replayedAt = "2026-06-01T11:59:50Z",
) {
  const clock = { seq: 0 };
  const writerConfig = { ...replicationDynamicConfig(t, writer) } as Record<string, unknown>;
  delete writerConfig["standby_cluster"];
  return {
    clock,
    writer: new FakeLeader(`writer ${writer}`, "master", writerConfig, clock, 5000),
    standby: new FakeLeader(
      `standby ${standby}`,
      "standby_leader",
      { ...replicationDynamicConfig(t, standby) },
      clock,
      4000,
      replayedAt,
    ),
  };
}

function args(over: Partial<MoveArgs> & Pick<MoveArgs, "targetApi" | "writer">): {
  args: MoveArgs;
  lines: string[];
} {
  const lines: string[] = [];
  return {
    lines,
    args: {
      kind: "promote",
      topology,
      target: dr,
      execute: false,
      acceptDataLoss: false,
      log: (l) => lines.push(l),
      now: () => NOW,
      sleep: () => Promise.resolve(),
      waitSeconds: 5,
      ...over,
    },
  };
}

async function refused(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PreconditionError, String(e));
    return [...e.problems];
  }
  assert.fail("the move was not refused");
}

describe("pnpm dr promote / failback / fence (moveWriter)", () => {
  it("a dry run logs every request and sends none", async () => {
    const c = clusters(topology, primary, dr);
    const { args: a, lines } = args({ targetApi: c.standby, writer: c.writer });
    const result = await moveWriter(a);
    assert.equal(result.executed, false);
    assert.equal(c.writer.patches.length + c.standby.patches.length, 0);
    assert.deepEqual(
      result.requests.map((r) => r.cluster),
      [primary, dr, primary],
    );
    assert.ok(lines.filter((l) => l.startsWith("[dry run] would PATCH")).length === 3, lines.join("\n"));
    assert.match(result.nextConfig, new RegExp(`dr.promotedRegion: ${dr}`));
  });

  it("a planned promotion fences the writer, waits for the standby to replay its WAL, then promotes", async () => {
    const c = clusters(topology, primary, dr);
    // The standby catches up only once the writer has been fenced (its last WAL streamed over).
    const status = c.standby.status.bind(c.standby);
    c.standby.status = async () => {
      if (c.writer.state.role === "standby_leader" && c.standby.state.role === "standby_leader") {
        c.standby.state = {
          ...c.standby.state,
          xlog: { ...c.standby.state.xlog, replayed_location: c.writer.state.xlog!.replayed_location! },
        };
      }
      return status();
    };
    const { args: a } = args({ targetApi: c.standby, writer: c.writer, execute: true });
    await moveWriter(a);
    const after = withWriter(topology, dr);
    const [fence, dropSlots] = c.writer.patches;
    const [promote] = c.standby.patches;
    assert.ok(fence && promote && dropSlots);
    assert.deepEqual(fence.body, {
      standby_cluster: replicationDynamicConfig(after, primary).standby_cluster,
    });
    assert.equal(
      (fence.body["standby_cluster"] as { host: string }).host,
      replicationHostName(topology.name, dr),
    );
    assert.deepEqual(promote.body, { ...replicationDynamicConfig(after, dr) });
    assert.equal(promote.body["standby_cluster"], null);
    assert.deepEqual(dropSlots.body, { slots: null });
    assert.ok(
      fence.seq < promote.seq && promote.seq < dropSlots.seq,
      "fence, then promote, then drop the old slots",
    );
    assert.equal(c.standby.state.role, "master");
    assert.equal(c.writer.state.role, "standby_leader");
  });

  it("refuses to promote a standby behind the old writer's WAL until it catches up (times out)", async () => {
    const c = clusters(topology, primary, dr);
    let t = NOW;
    const { args: a } = args({
      targetApi: c.standby,
      writer: c.writer,
      execute: true,
      now: () => (t += 1000),
    });
    await assert.rejects(moveWriter(a), /timed out after 5 s waiting until us-east-1 has replayed/);
    assert.equal(c.standby.patches.length, 0, "the standby was not promoted");
  });

  it("takes the fenced writer's WAL end from its replayed position, not from the bytes it has received", async () => {
    const c = clusters(topology, primary, dr);
    const patch = c.writer.patchConfig.bind(c.writer);
    c.writer.patchConfig = async (body) => {
      await patch(body);
      if (c.writer.state.role === "standby_leader") {
        // Bytes of a record the immediate stop cut in half: received, never replayed by anyone.
        const xlog = c.writer.state.xlog!;
        c.writer.state = {
          ...c.writer.state,
          xlog: { ...xlog, received_location: xlog.replayed_location! + 3000 },
        };
      }
    };
    const status = c.standby.status.bind(c.standby);
    c.standby.status = async () => {
      if (c.writer.state.role === "standby_leader" && c.standby.state.role === "standby_leader") {
        c.standby.state = {
          ...c.standby.state,
          xlog: {
            ...c.standby.state.xlog,
            received_location: c.writer.state.xlog!.received_location!,
            replayed_location: c.writer.state.xlog!.replayed_location!,
          },
        };
      }
      return status();
    };
    const { args: a, lines } = args({ targetApi: c.standby, writer: c.writer, execute: true });
    await moveWriter(a);
    assert.equal(c.standby.state.role, "master", "promoted once every complete record was replayed");
    assert.ok(
      lines.some((l) => l.includes(`WAL ends at 5120 (its replayed position)`)),
      lines.join("\n"),
    );
  });

  it("reads where the fenced writer's WAL ends only once it runs as a standby leader", async () => {
    const c = clusters(topology, primary, dr);
    let startingPolls = 3;
    const writerStatus = c.writer.status.bind(c.writer);
    c.writer.status = async () => {
      const s = await writerStatus();
      // Patroni names the role before crash recovery has finished: no positions yet.
      if (s.role === "standby_leader" && startingPolls-- > 0) return { state: "starting", role: s.role };
      return s;
    };
    const status = c.standby.status.bind(c.standby);
    c.standby.status = async () => {
      if (c.writer.state.role === "standby_leader" && startingPolls < 0) {
        c.standby.state = {
          ...c.standby.state,
          xlog: { ...c.standby.state.xlog, replayed_location: c.writer.state.xlog!.replayed_location! },
        };
      }
      return status();
    };
    const replayedAtPromote: number[] = [];
    const patch = c.standby.patchConfig.bind(c.standby);
    c.standby.patchConfig = async (body) => {
      replayedAtPromote.push(c.standby.state.xlog?.replayed_location ?? -1);
      await patch(body);
    };
    const { args: a } = args({ targetApi: c.standby, writer: c.writer, execute: true });
    await moveWriter(a);
    assert.deepEqual(
      replayedAtPromote,
      [c.writer.state.xlog!.replayed_location],
      "promoted only after replaying the fenced writer's WAL to its end",
    );
  });

  it("says what it last saw when a wait times out", async () => {
    const c = clusters(topology, primary, dr);
    let t = NOW;
    const { args: a } = args({
      targetApi: c.standby,
      writer: c.writer,
      execute: true,
      now: () => (t += 1000),
    });
    await assert.rejects(moveWriter(a), /\(last seen: us-east-1 replayed 4000 of 5120\)/);
  });

  it("on region loss promotes within the RPO and refuses beyond it unless the loss is accepted", async () => {
    const fresh = clusters(topology, primary, dr, new Date(NOW - 10_000).toISOString());
    const ok = await moveWriter(args({ targetApi: fresh.standby, writer: "lost", execute: true }).args);
    assert.equal(ok.replayAgeSeconds, 10);
    assert.deepEqual(
      fresh.standby.patches.map((p) => p.body["standby_cluster"]),
      [null],
    );

    const stale = clusters(
      topology,
      primary,
      dr,
      new Date(NOW - (topology.dr.rpoSeconds + 5) * 1000).toISOString(),
    );
    const problems = await refused(
      moveWriter(args({ targetApi: stale.standby, writer: "lost", execute: true }).args),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], new RegExp(`more than dr.rpoSeconds \\(${topology.dr.rpoSeconds}\\)`));
    assert.equal(stale.standby.patches.length, 0);
    await moveWriter(
      args({ targetApi: stale.standby, writer: "lost", execute: true, acceptDataLoss: true }).args,
    );
    assert.equal(stale.standby.state.role, "master");
  });

  it("expects and sends the replication endpoints it is given (the loopback drill's proxies)", async () => {
    const endpoints: Record<string, { host: string; port: number }> = {
      [primary]: { host: "127.0.0.1", port: 40001 },
      [dr]: { host: "127.0.0.1", port: 40002 },
    };
    const replicationEndpoint = (region: string) => endpoints[region];
    // The rendered name is refused: the standby must follow the endpoint given for the writer.
    const rendered = clusters(topology, primary, dr);
    const problems = await refused(
      moveWriter(args({ targetApi: rendered.standby, writer: rendered.writer, replicationEndpoint }).args),
    );
    assert.match(problems[0], /not the writer's replication endpoint 127\.0\.0\.1:40001/);
    // Same host, another port: still another endpoint.
    const c = clusters(topology, primary, dr);
    c.standby.config_ = { ...c.standby.config_, standby_cluster: { host: "127.0.0.1", port: 40009 } };
    const port = await refused(
      moveWriter(args({ targetApi: c.standby, writer: c.writer, replicationEndpoint }).args),
    );
    assert.match(port[0], /follows 127\.0\.0\.1:40009/);
    c.standby.config_ = { ...c.standby.config_, standby_cluster: { host: "127.0.0.1", port: 40001 } };
    const result = await moveWriter(
      args({ targetApi: c.standby, writer: c.writer, replicationEndpoint }).args,
    );
    const fence = result.requests[0];
    assert.equal(fence.cluster, primary);
    assert.deepEqual(
      { ...(fence.body["standby_cluster"] as Record<string, unknown>) },
      {
        ...replicationDynamicConfig(withWriter(topology, dr), primary).standby_cluster,
        host: "127.0.0.1",
        port: 40002,
      },
    );
  });

  it("collects every failed precondition with its fix", async () => {
    const c = clusters(topology, primary, dr);
    // The target is a replica, follows another host; the writer endpoint is not the leader.
    c.standby.state = { ...c.standby.state, role: "replica" };
    c.standby.config_ = { standby_cluster: { host: "elsewhere.internal" } };
    c.writer.state = { ...c.writer.state, role: "replica" };
    const problems = await refused(moveWriter(args({ targetApi: c.standby, writer: c.writer }).args));
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0], /not the running standby leader.*Fix: port-forward/);
    assert.match(problems[1], /follows elsewhere.internal:5432, not the writer's replication endpoint/);
    assert.match(problems[2], /not sa-east-1's running leader/);
  });

  it("refuses a second promotion and a failback with nothing promoted", async () => {
    const promoted = withWriter(topology, dr);
    const c = clusters(promoted, dr, primary);
    const again = await refused(
      moveWriter(args({ topology: promoted, targetApi: c.standby, writer: c.writer }).args),
    );
    assert.ok(
      again.some((p) => /already has us-east-1 promoted/.test(p)),
      again.join("\n"),
    );
    const n = clusters(topology, primary, dr);
    const back = await refused(
      moveWriter(args({ kind: "failback", target: primary, targetApi: n.writer, writer: n.standby }).args),
    );
    assert.ok(
      back.some((p) => /has no promoted region/.test(p)),
      back.join("\n"),
    );
  });

  it("fails back to the primary region with a planned move, and fences an old writer that came back", async () => {
    const promoted = withWriter(topology, dr);
    const c = clusters(promoted, dr, primary);
    c.standby.status = ((status) => async () => {
      if (c.writer.state.role === "standby_leader") {
        c.standby.state = { ...c.standby.state, xlog: { ...c.standby.state.xlog, replayed_location: 1e9 } };
      }
      return status();
    })(c.standby.status.bind(c.standby));
    const result = await moveWriter(
      args({
        kind: "failback",
        topology: promoted,
        target: primary,
        targetApi: c.standby,
        writer: c.writer,
        execute: true,
      }).args,
    );
    assert.match(result.nextConfig, /remove dr.promotedRegion/);
    assert.equal(c.standby.state.role, "master");
    assert.equal(
      (c.writer.config_["standby_cluster"] as { host: string }).host,
      replicationHostName(topology.name, primary),
    );

    // The primary region returns as a writer after a region-loss promotion: fence makes it follow.
    const back = clusters(promoted, dr, primary);
    const oldWriter = new FakeLeader("old sa-east-1", "master", {}, back.clock, 9000);
    await moveWriter(
      args({
        kind: "fence",
        topology: promoted,
        target: primary,
        targetApi: oldWriter,
        writer: "lost",
        execute: true,
      }).args,
    );
    assert.equal(oldWriter.state.role, "standby_leader");
    assert.equal(
      (oldWriter.config_["standby_cluster"] as { host: string }).host,
      replicationHostName(topology.name, dr),
    );
  });
});

describe("pnpm dr command line", () => {
  it("requires the env, region and target, and exactly one of --writer-url / --writer-lost", () => {
    assert.throws(
      () => parseDrArgs(["promote", "--env", "production"], "/"),
      /missing --region, --target-url/,
    );
    assert.throws(() => parseDrArgs(["switch"], "/"), /unknown command 'switch'/);
    const base = ["promote", "--env", "production", "--region", dr, "--target-url", "https://127.0.0.1:8008"];
    assert.throws(() => parseDrArgs(base, "/"), /exactly one of --writer-url/);
    assert.throws(
      () => parseDrArgs([...base, "--writer-lost", "--writer-url", "https://x"], "/"),
      /exactly one/,
    );
    assert.throws(() => parseDrArgs([...base, "--writer-lost", "--force"], "/"), UsageError);
    const parsed = parseDrArgs([...base, "--writer-lost", "--ca", "ca.crt"], "/tmp");
    assert.equal(parsed.execute, false, "dry run by default");
    assert.equal(parsed.caFile, "/tmp/ca.crt");
  });

  it("parses --replication-endpoint per region and rejects a malformed, repeated or unknown one", async () => {
    const base = [
      "promote",
      "--env",
      "production",
      "--region",
      dr,
      "--target-url",
      "https://127.0.0.1:8008",
      "--writer-lost",
    ];
    const parsed = parseDrArgs(
      [
        ...base,
        "--replication-endpoint",
        `${primary}=127.0.0.1:15432`,
        "--replication-endpoint",
        `${dr}=10.1.2.3:5432`,
      ],
      "/",
    );
    assert.deepEqual(parsed.replicationEndpoints, {
      [primary]: { host: "127.0.0.1", port: 15432 },
      [dr]: { host: "10.1.2.3", port: 5432 },
    });
    assert.deepEqual(parseDrArgs(base, "/").replicationEndpoints, {});
    for (const bad of [`${primary}:5432`, `${primary}=host`, `${primary}=host:0`, `${primary}=host:70000`]) {
      assert.throws(
        () => parseDrArgs([...base, "--replication-endpoint", bad], "/"),
        (e: Error) => {
          assert.ok(e instanceof UsageError);
          assert.match(e.message, new RegExp(`got '${bad}'; allowed: <region>=<host>:<port>`));
          return true;
        },
      );
    }
    assert.throws(
      () =>
        parseDrArgs(
          [...base, "--replication-endpoint", `${primary}=a:1`, "--replication-endpoint", `${primary}=b:2`],
          "/",
        ),
      /given twice/,
    );
    const unknown = parseDrArgs([...base, "--replication-endpoint", "eu-west-1=a:1"], "/");
    await assert.rejects(
      runDrCommand(unknown, topology, { PATRONI_RESTAPI_PASSWORD: "x" }, () => undefined),
      /eu-west-1 is not a region of production \(its regions: /,
    );
  });

  it("expects the standby to follow the --replication-endpoint it is given (dry run)", async () => {
    const c = clusters(topology, primary, dr);
    c.standby.config_["standby_cluster"] = {
      ...(c.standby.config_["standby_cluster"] as Record<string, unknown>),
      host: "127.0.0.1",
      port: 15432,
    };
    const given = { [primary]: { host: "127.0.0.1", port: 15432 } };
    const rendered = await refused(moveWriter(args({ targetApi: c.standby, writer: "lost" }).args));
    assert.ok(
      rendered.some((p) => p.includes("not the writer's replication endpoint")),
      rendered.join("\n"),
    );
    const lines: string[] = [];
    await moveWriter({
      ...args({ targetApi: c.standby, writer: "lost" }).args,
      log: (l) => lines.push(l),
      replicationEndpoint: (region) => given[region],
    });
    assert.ok(
      lines.some((l) => l.includes("preconditions hold")),
      lines.join("\n"),
    );
  });

  it("takes the REST API password from the environment only", async () => {
    const command = parseDrArgs(
      [
        "promote",
        "--env",
        "production",
        "--region",
        dr,
        "--target-url",
        "https://127.0.0.1:1",
        "--writer-lost",
      ],
      "/",
    );
    await assert.rejects(
      runDrCommand(command, topology, {}, () => undefined),
      /PATRONI_RESTAPI_PASSWORD is not set/,
    );
  });
});
