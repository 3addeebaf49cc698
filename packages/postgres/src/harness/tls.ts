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

/** A generated certificate authority whose key signs {@link issueCertificate}'s certificates. */
export interface CaFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly commonName: string;
}

/** Extended key usages of a certificate, as `DataTierTls` requests them from cert-manager. */
export type CertificateUsage = "server auth" | "client auth";

/** What {@link issueCertificate} puts on a certificate. */
export interface CertificateSpec {
  /** File name stem in the directory. */
  readonly name: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  /** IP subject alternative names (e.g. 127.0.0.1 for a server reached by address). @default none */
  readonly ipAddresses?: readonly string[];
  readonly usages: readonly CertificateUsage[];
}

function ownFiles(sandbox: Sandbox, files: readonly string[]): void {
  for (const file of files) {
    fs.chownSync(file, sandbox.runAs.uid, sandbox.runAs.gid);
    fs.chmodSync(file, file.endsWith(".key") ? 0o600 : 0o644);
  }
}

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
}

/** ECDSA P-256, the key type `DataTierTls` gives its CA and its certificates. */
const EC_P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/**
 * Generates a CA shaped like `DataTierTls`'s (ECDSA P-256, CA:TRUE, cert and CRL signing) with the
 * given common name, in its own directory of the sandbox.
 */
export function makeCa(sandbox: Sandbox, dirName: string, commonName: string): CaFiles {
  const dir = sandbox.mkdir(dirName, 0o700);
  const certFile = `${dir}/ca.crt`;
  const keyFile = `${dir}/ca.key`;
  openssl(
    "req",
    "-x509",
    ...EC_P256,
    "-days",
    "2",
    "-subj",
    `/CN=${commonName}`,
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  ownFiles(sandbox, [certFile, keyFile]);
  return { certFile, keyFile, commonName };
}

/**
 * Issues an ECDSA P-256 certificate signed by `ca` with exactly the spec's common name, DNS / IP
 * names and usages (what a `DataTierTls` certificate request gives cert-manager), next to the CA.
 * The returned files pair it with the CA certificate, as the data tier's Secrets carry `ca.crt`.
 */
export function issueCertificate(sandbox: Sandbox, ca: CaFiles, spec: CertificateSpec): TlsFiles {
  const dir = ca.certFile.slice(0, ca.certFile.lastIndexOf("/"));
  const file = (suffix: string): string => `${dir}/${spec.name}.${suffix}`;
  openssl("req", ...EC_P256, "-subj", `/CN=${spec.commonName}`, "-keyout", file("key"), "-out", file("csr"));
  const names = [
    ...spec.dnsNames.map((n) => `DNS:${n}`),
    ...(spec.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const usages = spec.usages.map((u) => (u === "server auth" ? "serverAuth" : "clientAuth"));
  fs.writeFileSync(
    file("ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${usages.join(",")}`,
      ...(names.length > 0 ? [`subjectAltName=${names.join(",")}`] : []),
      "",
    ].join("\n"),
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("csr"),
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file("ext"),
    "-out",
    file("crt"),
  );
  ownFiles(sandbox, [file("crt"), file("key")]);
  return { caFile: ca.certFile, certFile: file("crt"), keyFile: file("key") };
}
