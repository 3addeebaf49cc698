import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type { Sandbox } from "./sandbox";

/** Files of a throwaway certificate authority and one server certificate it signed. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Generates a throwaway CA and a server certificate for 127.0.0.1/localhost with openssl, owned by
 * the engine user with the key at mode 0600 (PostgreSQL refuses group/world-readable keys). It
 * stands in for the cert-manager Certificates of the cluster: same roles (server cert + CA that
 * clients verify against), loopback names.
 */
export function makeTls(sandbox: Sandbox, dirName = "tls"): TlsFiles {
  const dir = sandbox.mkdir(dirName, 0o700);
  const file = (name: string): string => `${dir}/${name}`;
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  };
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=hcp-itest-ca",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  );
  fs.writeFileSync(
    file("server.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
    "-out",
    file("server.crt"),
  );
  for (const name of fs.readdirSync(dir)) {
    fs.chownSync(file(name), sandbox.runAs.uid, sandbox.runAs.gid);
    fs.chmodSync(file(name), name.endsWith(".key") ? 0o600 : 0o644);
  }
  return { caFile: file("ca.crt"), certFile: file("server.crt"), keyFile: file("server.key") };
}
