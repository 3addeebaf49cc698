import * as net from "node:net";
import { sleep } from "./procs";

/**
 * A TCP proxy that follows a Patroni cluster's leader, standing in on loopback for what production
 * uses: a Kubernetes Service (or the internal NLB in front of it) selecting the pod labelled as leader.
 * Like kube-proxy, it sends each *new* connection to the current leader and leaves established
 * connections alone (they end when their backend closes them); with no leader, new connections are
 * refused. The leader is polled (Patroni relabels the pod, the endpoint controller propagates it), so a
 * change is seen within `pollMs`.
 *
 * It can also be cut (every connection dropped, new ones refused) to stand in for a broken
 * inter-region path, and restored.
 */

/** Options of {@link LeaderProxy.start}. */
export interface LeaderProxyOptions {
  /** The current leader's PostgreSQL port on loopback, `undefined` while there is none. */
  readonly target: () => Promise<number | undefined> | number | undefined;
  /**
   * How often the leader is looked up, ms (the endpoint propagation delay it models).
   * @default 500
   */
  readonly pollMs?: number;
  /** @default - a free port */
  readonly port?: number;
}

/** A change of the proxy's target, for measurements. */
export interface TargetChange {
  readonly at: number;
  readonly port: number | undefined;
}

export class LeaderProxy {
  readonly changes: TargetChange[] = [];
  private target: number | undefined;
  private isCut = false;
  private stopped = false;
  private readonly sockets = new Set<net.Socket>();
  private poller: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly options: LeaderProxyOptions,
  ) {}

  /** Starts listening on 127.0.0.1 and following the leader (resolves once the first lookup is done). */
  static async start(options: LeaderProxyOptions): Promise<LeaderProxy> {
    const holder: { proxy?: LeaderProxy } = {};
    const server = net.createServer((client) => holder.proxy?.accept(client));
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () =>
        resolve((server.address() as net.AddressInfo).port),
      );
    });
    const proxy = new LeaderProxy(server, port, options);
    holder.proxy = proxy;
    await proxy.refresh();
    proxy.poller = proxy.follow();
    return proxy;
  }

  /** The leader port new connections go to now. */
  current(): number | undefined {
    return this.isCut ? undefined : this.target;
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.isCut = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.poller;
  }

  private async refresh(): Promise<void> {
    let next: number | undefined;
    try {
      next = await this.options.target();
    } catch {
      next = undefined;
    }
    if (next !== this.target) {
      this.target = next;
      this.changes.push({ at: Date.now(), port: next });
    }
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      await sleep(this.options.pollMs ?? 500);
      if (!this.stopped) await this.refresh();
    }
  }

  private accept(client: net.Socket): void {
    const port = this.current();
    if (port === undefined) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
