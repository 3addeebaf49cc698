// TLS terminator for moto_server (see moto.ts): accepts TLS on 127.0.0.1:<listen> with the given
// certificate and forwards plain TCP to 127.0.0.1:<target>. A process of its own, so a test that
// blocks its event loop (a synchronous pgBackRest call) never stalls pgBackRest's S3 requests.
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";

const [listen, target, certFile, keyFile] = process.argv.slice(2);
const server = tls.createServer(
  { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) },
  (client) => {
    const upstream = net.connect(Number(target), "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  },
);
server.listen(Number(listen), "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
