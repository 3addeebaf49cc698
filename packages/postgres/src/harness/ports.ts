import * as fs from "node:fs";
import * as net from "node:net";
import { waitFor } from "./procs";
import type { Proc, Sandbox } from "./sandbox";

/**
 * Free loopback TCP ports. The kernel picks each one (bind to port 0); all are held open until the
 * whole batch is chosen so one call never returns the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until `proc` accepts TCP connections on 127.0.0.1:port; fails at once if it exits first. */
export async function waitListening(
  sandbox: Sandbox,
  proc: Proc,
  port: number,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  await waitFor(
    `${proc.name} to listen on ${port}`,
    async () => {
      if (proc.exitStatus !== undefined) throw new Error(`${proc.name} exited (${proc.exitStatus})`);
      return (await isListening(port)) ? true : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs: options.intervalMs,
      detail: () => sandbox.tail(proc),
    },
  );
}

/** Established IPv4 TCP connections whose local (server) port is `port`, from /proc/net/tcp. */
export function establishedConnections(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "01";
    }).length;
}
