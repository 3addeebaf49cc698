import * as fs from "node:fs";
import * as path from "node:path";
import { freePorts, waitListening } from "./ports";
import type { Sandbox } from "./sandbox";
import type { TlsFiles } from "./tls";

/**
 * An S3 (and KMS) endpoint on loopback for pgBackRest: `moto_server` (the AWS API emulator, present
 * on some machine images, never installed by this repository) behind a TLS terminator
 * (`tlsTerminator.mjs`, a Node process of its own).
 *
 * Why the terminator: pgBackRest speaks only HTTPS to S3, and moto's own `--ssl` mode closes each
 * connection without a TLS close_notify, which OpenSSL 3 (pgBackRest 2.45) reports as "unexpected
 * eof while reading" and fails the request. Node's TLS server ends connections cleanly, with the
 * test CA's certificate for `localhost`, so pgBackRest verifies the endpoint as it does in AWS.
 */
export interface MotoS3 {
  /** Host name pgBackRest connects to (the test certificate's DNS name). */
  readonly host: "localhost";
  /** HTTPS port of the TLS terminator. */
  readonly port: number;
  createBucket(name: string, region: string): Promise<void>;
  /** Creates a symmetric KMS key in `region` and returns its ARN. */
  createKmsKey(region: string): Promise<string>;
  /** Object keys under `prefix` in `bucket`. */
  listObjects(bucket: string, prefix: string): Promise<string[]>;
  /** The server-side encryption moto stored for an object (`aws:kms` + key ARN for SSE-KMS). */
  objectEncryption(bucket: string, key: string): Promise<{ sse?: string; kmsKeyId?: string }>;
  close(): Promise<void>;
}

/** `moto_server` on this process's PATH, or undefined. */
export function findMotoServer(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "moto_server");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** moto accepts any credentials but reads the region (and account scope) from a SigV4 header. */
function authorization(service: string, region: string): string {
  return `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

export async function startMotoS3(sandbox: Sandbox, files: TlsFiles, motoServer: string): Promise<MotoS3> {
  const [motoPort, tlsPort] = await freePorts(2);
  const proc = sandbox.spawn("moto", motoServer, ["-H", "127.0.0.1", "-p", String(motoPort)], {
    user: "self",
  });
  await waitListening(sandbox, proc, motoPort, { intervalMs: 200 });

  const terminator = sandbox.spawn(
    "tls-terminator",
    process.execPath,
    [
      path.join(__dirname, "tlsTerminator.mjs"),
      String(tlsPort),
      String(motoPort),
      files.certFile,
      files.keyFile,
    ],
    { user: "self" },
  );
  await waitListening(sandbox, terminator, tlsPort, { timeoutMs: 15_000, intervalMs: 100 });

  const base = `http://127.0.0.1:${motoPort}`;
  const request = async (url: string, init: RequestInit & { service: string; region: string }) => {
    const response = await fetch(`${base}${url}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        Authorization: authorization(init.service, init.region),
      },
    });
    if (!response.ok) {
      throw new Error(
        `moto ${init.method ?? "GET"} ${url}: HTTP ${response.status} ${await response.text()}`,
      );
    }
    return response;
  };

  return {
    host: "localhost",
    port: tlsPort,
    async createBucket(name, region) {
      await request(`/${name}`, {
        method: "PUT",
        service: "s3",
        region,
        body:
          region === "us-east-1"
            ? ""
            : `<CreateBucketConfiguration><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`,
      });
    },
    async createKmsKey(region) {
      const response = await request("/", {
        method: "POST",
        service: "kms",
        region,
        headers: { "X-Amz-Target": "TrentService.CreateKey", "Content-Type": "application/x-amz-json-1.1" },
        body: JSON.stringify({ Description: "pgBackRest integration test" }),
      });
      return ((await response.json()) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
    },
    async listObjects(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const query = new URLSearchParams({ "list-type": "2", prefix });
        if (token) query.set("continuation-token", token);
        const xml = await (
          await request(`/${bucket}?${query.toString()}`, { service: "s3", region: "us-east-1" })
        ).text();
        keys.push(...[...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]));
        token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1];
      } while (token);
      return keys;
    },
    async objectEncryption(bucket, key) {
      const response = await request(`/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`, {
        method: "HEAD",
        service: "s3",
        region: "us-east-1",
      });
      const sse = response.headers.get("x-amz-server-side-encryption") ?? undefined;
      const kmsKeyId = response.headers.get("x-amz-server-side-encryption-aws-kms-key-id") ?? undefined;
      return { ...(sse ? { sse } : {}), ...(kmsKeyId ? { kmsKeyId } : {}) };
    },
    async close() {
      await sandbox.stop(terminator, 5_000);
      await sandbox.stop(proc, 5_000);
    },
  };
}
