import * as assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { skipBecause } from "@hcp/testing";
import { CACHE_SECRET_PROPERTIES } from "../../src/components/cache";
import { redisUrlTemplate } from "../../src/services";

/**
 * The REDIS_URL the layer composes, against a real server: a local redis-server (Valkey's
 * ancestor, same protocol and AUTH semantics) with TLS only and `requirepass` set to a token shaped
 * like the generated one, its certificate issued for the host name by a test CA. The URL is
 * rendered from the layer's template and the cache secret's properties the way ESO's template
 * engine v2 does for the two constructs it uses (`{{ .key }}`, `{{ .key | urlquery }}`), then a
 * client that follows the URL (TLS for `rediss`, AUTH with the password, and with a user name only
 * when the URL has one) runs commands. It proves the URL's shape, TLS with verification and AUTH;
 * ElastiCache's own certificates and the application's client library are proven only on a real
 * cluster.
 */

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (dir && fs.existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** Go's url.QueryEscape for the characters a token can hold (letters and digits pass unchanged). */
function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, "+")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Renders the template constructs the layer uses; anything else is refused, not guessed. */
function renderTemplate(template: string, data: Readonly<Record<string, string>>): string {
  const out = template.replace(
    /\{\{ \.([A-Za-z]+)( \| urlquery)? \}\}/g,
    (_, key: string, escape?: string) => {
      const value = data[key];
      if (value === undefined) {
        throw new Error(`template reads .${key}, which the secret does not have`);
      }
      return escape ? queryEscape(value) : value;
    },
  );
  if (out.includes("{{")) {
    throw new Error(`template construct this renderer does not know: ${out}`);
  }
  return out;
}

/** A RESP reply: a simple string, an error, a bulk string or null. */
type Reply = { kind: "ok"; value: string | null } | { kind: "error"; value: string };

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** Parses as many whole replies as `buffer` holds. */
function parseReplies(buffer: string): Reply[] {
  const replies: Reply[] = [];
  let i = 0;
  while (i < buffer.length) {
    const end = buffer.indexOf("\r\n", i);
    if (end < 0) {
      break;
    }
    const head = buffer.slice(i + 1, end);
    const type = buffer[i];
    if (type === "+") {
      replies.push({ kind: "ok", value: head });
      i = end + 2;
    } else if (type === "-") {
      replies.push({ kind: "error", value: head });
      i = end + 2;
    } else if (type === "$") {
      const length = Number(head);
      if (length < 0) {
        replies.push({ kind: "ok", value: null });
        i = end + 2;
      } else {
        if (buffer.length < end + 2 + length + 2) {
          break;
        }
        replies.push({ kind: "ok", value: buffer.slice(end + 2, end + 2 + length) });
        i = end + 2 + length + 2;
      }
    } else {
      throw new Error(`unexpected RESP type ${type}`);
    }
  }
  return replies;
}

/**
 * Connects as the URL says and runs `commands` after AUTH: the replies, AUTH's first. TLS is
 * verified against `ca` (what the system trust store does for ElastiCache's certificates).
 */
function run(url: string, ca: string, commands: ReadonlyArray<readonly string[]>): Promise<Reply[]> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  const user = decodeURIComponent(u.username);
  const auth = user ? ["AUTH", user, password] : ["AUTH", password];
  const all = [auth, ...commands];
  return new Promise((resolve, reject) => {
    const options = { host: u.hostname, port: Number(u.port), servername: u.hostname, ca };
    const socket: net.Socket =
      u.protocol === "rediss:"
        ? tls.connect(options)
        : net.connect({ host: u.hostname, port: Number(u.port) });
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply within 5 s (received ${JSON.stringify(received)})`));
    }, 5000);
    socket.once(u.protocol === "rediss:" ? "secureConnect" : "connect", () =>
      socket.write(all.map(encode).join("")),
    );
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
      const replies = parseReplies(received);
      if (replies.length >= all.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`connection closed after ${JSON.stringify(received)}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A token shaped like the generated one: 64 letters and digits. */
function token(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 64 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** A CA and a certificate for `localhost` it issued, with openssl. */
function certificates(dir: string, name: string) {
  const file = (f: string) => path.join(dir, `${name}-${f}`);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
    "-days",
    "1",
    "-subj",
    `/CN=${name}-ca`,
  );
  openssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  fs.writeFileSync(file("ext"), "subjectAltName=DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.pem"),
    "-days",
    "1",
    "-extfile",
    file("ext"),
  );
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") };
}

describe("REDIS_URL against a real server (TLS only, AUTH token)", function () {
  let dir: string;
  let server: ChildProcess | undefined;
  let secret: Record<string, string>;
  let ca: string;
  let otherCa: string;

  before(async function () {
    const binary = process.env.REDIS_SERVER ?? onPath("redis-server");
    // .ci/setup installs both: under CI a missing engine is a failure, not a skip.
    const unavailable: (why: string) => never = (why) => {
      if (process.env.CI === "true") throw new Error(`integration engines unavailable under CI: ${why}`);
      return skipBecause(this, why);
    };
    if (!binary) {
      unavailable("redis-server is not on PATH (Debian: redis-server); set REDIS_SERVER to its path");
    }
    if (!onPath("openssl")) {
      unavailable("openssl is not on PATH (it issues the test certificates)");
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-redis-url-"));
    const tlsFiles = certificates(dir, "cache");
    ca = fs.readFileSync(tlsFiles.ca, "utf8");
    otherCa = fs.readFileSync(certificates(dir, "other").ca, "utf8");
    const port = await freePort();
    const authToken = token();
    server = spawn(
      binary,
      [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        tlsFiles.cert,
        "--tls-key-file",
        tlsFiles.key,
        "--tls-ca-cert-file",
        tlsFiles.ca,
        "--tls-auth-clients",
        "no",
        "--requirepass",
        authToken,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    server.stdout?.on("data", (c: Buffer) => (log += c.toString()));
    server.stderr?.on("data", (c: Buffer) => (log += c.toString()));
    // The cache secret as RegionalCache stores it (port as the JSON number ESO reads as "6379").
    secret = {
      [CACHE_SECRET_PROPERTIES.authToken]: authToken,
      [CACHE_SECRET_PROPERTIES.host]: "localhost",
      [CACHE_SECRET_PROPERTIES.port]: String(port),
    };
    const url = renderTemplate(redisUrlTemplate(), secret);
    for (let attempt = 0; ; attempt++) {
      try {
        await run(url, ca, [["PING"]]);
        break;
      } catch (e) {
        if (attempt > 50 || server.exitCode !== null) {
          throw new Error(`redis-server did not accept TLS connections: ${String(e)}\n${log}`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  after(async () => {
    if (server && server.exitCode === null && server.pid !== undefined) {
      const exited = new Promise((r) => server!.once("exit", r));
      process.kill(server.pid, "SIGTERM");
      await exited;
    }
    if (dir) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("renders rediss://:<token>@<host>:<port> and connects: TLS verified, AUTH accepted, commands run", async () => {
    const url = renderTemplate(redisUrlTemplate(), secret);
    assert.equal(url, `rediss://:${secret.authToken}@localhost:${secret.port}`);
    const replies = await run(url, ca, [["PING"], ["SET", "session:1", "x"], ["GET", "session:1"]]);
    assert.deepEqual(replies, [
      { kind: "ok", value: "OK" },
      { kind: "ok", value: "PONG" },
      { kind: "ok", value: "OK" },
      { kind: "ok", value: "x" },
    ]);
  });

  it("refuses a wrong token, and every command without AUTH", async () => {
    const wrong = renderTemplate(redisUrlTemplate(), { ...secret, authToken: token() });
    const [auth, ping] = await run(wrong, ca, [["PING"]]);
    assert.equal(auth.kind, "error");
    assert.match(auth.value ?? "", /^WRONGPASS/);
    assert.equal(ping.kind, "error");
    assert.match(ping.value ?? "", /^NOAUTH/);
  });

  it("refuses a plain-text connection and a server certificate from another CA", async () => {
    const plain = renderTemplate(redisUrlTemplate(), secret).replace(/^rediss:/, "redis:");
    await assert.rejects(run(plain, ca, [["PING"]]), /closed|ECONNRESET|no complete reply/);
    await assert.rejects(run(renderTemplate(redisUrlTemplate(), secret), otherCa, [["PING"]]), /certificate/);
  });
});
