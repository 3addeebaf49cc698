import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import type { Proc, Sandbox } from "./sandbox";

/** One line of the writer's log (see writer.py for the meaning of each event). */
export type WriterEvent =
  | { ev: "connected"; t: number; port: number }
  | { ev: "ack"; id: number; t0: number; t: number; port: number; notice?: string }
  | { ev: "err"; id: number | null; t: number; phase: "connect" | "write" | "commit"; msg: string };

export type AckEvent = Extract<WriterEvent, { ev: "ack" }>;

export interface WriterOptions {
  /**
   * libpq connection string: every member (multi-host, target_session_attrs=read-write), or one
   * endpoint such as a PgBouncer in front of the leader.
   */
  readonly dsn: string;
  /** Table with a bigint `id` primary key the writer inserts into. */
  readonly table: string;
  /** Transactions per second. @default - 100 */
  readonly ratePerSecond?: number;
  readonly name?: string;
}

/**
 * A writer process committing at a steady rate and logging every acknowledged commit. It runs as
 * its own process (Debian's /usr/bin/python3 + psycopg2/libpq) so the test's own event loop, busy
 * polling the cluster, never delays a commit or its timestamp.
 */
export class Writer {
  readonly events: WriterEvent[] = [];
  readonly proc: Proc;

  constructor(sandbox: Sandbox, options: WriterOptions) {
    // A copy in the sandbox: the engine user may not be able to read the checkout (CI clones it
    // under a directory only root can traverse).
    const script = sandbox.writeFile(
      `${options.name ?? "writer"}.py`,
      fs.readFileSync(path.join(__dirname, "writer.py"), "utf8"),
      0o500,
    );
    this.proc = sandbox.spawn(
      options.name ?? "writer",
      "/usr/bin/python3",
      [script, options.dsn, options.table, String(options.ratePerSecond ?? 100)],
      { pipeStdout: true },
    );
    const lines = readline.createInterface({ input: this.proc.child.stdout! });
    lines.on("line", (line) => {
      if (line.trim() === "") return;
      this.events.push(JSON.parse(line) as WriterEvent);
    });
  }

  get acks(): AckEvent[] {
    return this.events.filter((e): e is AckEvent => e.ev === "ack");
  }

  /** Acknowledged commits whose acknowledgement arrived after `t` (epoch ms). */
  acksAfter(t: number): AckEvent[] {
    return this.acks.filter((e) => e.t > t);
  }

  /** Ids whose COMMIT failed: outcome unknown, neither acknowledged nor lost. */
  get unknownIds(): number[] {
    return this.events.flatMap((e) =>
      e.ev === "err" && e.phase === "commit" && e.id !== null ? [e.id] : [],
    );
  }

  get exitStatus(): number | string | undefined {
    return this.proc.exitStatus;
  }

  /** Stops the writer (SIGTERM: it finishes the transaction in flight and exits). */
  async stop(sandbox: Sandbox): Promise<void> {
    await sandbox.stop(this.proc, 15_000);
  }
}

/** The largest gap between consecutive acknowledgements in [from, to] (epoch ms), with its bounds. */
export function largestAckGap(
  acks: readonly AckEvent[],
  from: number,
  to: number,
): { gapMs: number; after: number } {
  const times = acks.map((a) => a.t).filter((t) => t >= from && t <= to);
  let gapMs = 0;
  let after = from;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap > gapMs) {
      gapMs = gap;
      after = times[i - 1]!;
    }
  }
  return { gapMs, after };
}
