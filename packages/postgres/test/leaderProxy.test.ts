import * as assert from "node:assert/strict";
import * as net from "node:net";
import { LeaderProxy, sleep } from "../src/harness";

/** A TCP server that answers every line with `<name>:<line>`. */
async function namedEcho(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("data", (d) => s.write(`${name}:${d.toString()}`));
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Opens a connection through the proxy; `ask` sends a line and waits for the answer. */
async function client(port: number): Promise<{ ask: (line: string) => Promise<string>; socket: net.Socket }> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return {
    socket,
    ask: (line) =>
      new Promise((resolve, reject) => {
        socket.once("data", (d) => resolve(d.toString()));
        socket.once("close", () => reject(new Error("closed")));
        socket.write(line);
      }),
  };
}

describe("LeaderProxy (stands in for the Service selecting the Patroni leader)", () => {
  it("sends new connections to the current leader and leaves established ones where they are", async () => {
    const a = await namedEcho("a");
    const b = await namedEcho("b");
    let leader: number | undefined = a.port;
    const proxy = await LeaderProxy.start({ target: () => leader, pollMs: 20 });
    try {
      const first = await client(proxy.port);
      assert.equal(await first.ask("x"), "a:x");
      leader = b.port;
      await sleep(100);
      const second = await client(proxy.port);
      assert.equal(await second.ask("y"), "b:y");
      assert.equal(await first.ask("z"), "a:z", "an established connection is not moved");
      assert.deepEqual(
        proxy.changes.map((c) => c.port),
        [a.port, b.port],
      );
      first.socket.destroy();
      second.socket.destroy();
    } finally {
      await proxy.stop();
      await a.close();
      await b.close();
    }
  });

  it("refuses new connections without a leader, and everything while cut", async () => {
    const a = await namedEcho("a");
    let leader: number | undefined;
    const proxy = await LeaderProxy.start({ target: () => leader, pollMs: 20 });
    const closedOnArrival = async () => {
      const s = net.connect({ host: "127.0.0.1", port: proxy.port });
      await new Promise<void>((resolve) => s.on("close", () => resolve()));
    };
    try {
      await closedOnArrival();
      leader = a.port;
      await sleep(100);
      const c = await client(proxy.port);
      assert.equal(await c.ask("x"), "a:x");
      const dropped = new Promise<void>((resolve) => c.socket.on("close", () => resolve()));
      proxy.cut();
      await dropped;
      await closedOnArrival();
      proxy.restore();
      const again = await client(proxy.port);
      assert.equal(await again.ask("y"), "a:y");
      again.socket.destroy();
    } finally {
      await proxy.stop();
      await a.close();
    }
  });
});
