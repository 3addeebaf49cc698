import { freePorts } from "./ports";
import { waitFor } from "./procs";
import type { Proc, Sandbox } from "./sandbox";

/** A single-member etcd on loopback: the DCS standing in for the Kubernetes API locally. */
export interface Etcd {
  readonly proc: Proc;
  readonly clientPort: number;
  /** `host:port` as Patroni's `etcd3.hosts` expects it. */
  readonly endpoint: string;
}

export async function startEtcd(sandbox: Sandbox, name = "etcd"): Promise<Etcd> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = sandbox.mkdir(`${name}-data`);
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = sandbox.spawn(name, "/usr/bin/etcd", [
    "--name",
    name,
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    client,
    "--advertise-client-urls",
    client,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `${name}=${peer}`,
    "--initial-cluster-state",
    "new",
    "--log-level",
    "warn",
    "--logger",
    "zap",
  ]);
  await waitFor(
    `etcd health on ${client}`,
    async () => {
      if (proc.exitStatus !== undefined) throw new Error(`etcd exited (${proc.exitStatus})`);
      const response = await fetch(`${client}/health`);
      const body = (await response.json()) as { health?: string };
      return body.health === "true" ? true : undefined;
    },
    { timeoutMs: 30_000, detail: () => sandbox.tail(proc) },
  );
  return { proc, clientPort, endpoint: `127.0.0.1:${clientPort}` };
}
