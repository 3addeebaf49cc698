import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";

/**
 * What the DR commands read and change on a cluster: the REST API of its leader member. Patroni
 * 3.0 (Debian's 3.0.2) names the writer's role `master`, Patroni 4 `primary`; a standby cluster's
 * leader is `standby_leader` in both. `xlog` positions are byte LSNs as Patroni reports them.
 */
export interface MemberState {
  readonly state: string;
  readonly role: string;
  readonly timeline?: number;
  readonly xlog?: {
    /** The writer's current WAL position. */
    readonly location?: number;
    readonly received_location?: number;
    readonly replayed_location?: number;
    /** Commit time of the newest replayed transaction (null before any). */
    readonly replayed_timestamp?: string | null;
  };
}

/** One cluster's REST API (its leader member). */
export interface PatroniApi {
  /** Where it is reached (logged; never holds credentials). */
  readonly description: string;
  /** GET /patroni of the member. */
  status(): Promise<MemberState>;
  /** GET /config: the cluster's dynamic configuration. */
  config(): Promise<Record<string, unknown>>;
  /** PATCH /config (`null` removes a key). */
  patchConfig(body: Readonly<Record<string, unknown>>): Promise<void>;
}

/** True for the role of a cluster's writer in either Patroni major version. */
export function isWriterRole(role: string): boolean {
  return role === "master" || role === "primary";
}

/** How {@link HttpPatroniApi} reaches a member. */
export interface HttpPatroniApiOptions {
  /** `https://127.0.0.1:8008` after `kubectl port-forward`, or a loopback member in tests. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** CA that signed the REST API's certificate (the data tier's CA). */
  readonly caFile?: string;
  /** Host name verified on the certificate (the URL's host is a port-forward's loopback). */
  readonly servername?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

/** {@link PatroniApi} over HTTP(S) with the REST API's basic auth. */
export class HttpPatroniApi implements PatroniApi {
  readonly description: string;
  private readonly url: URL;

  constructor(private readonly options: HttpPatroniApiOptions) {
    this.url = new URL(options.url);
    this.description = `${this.url.origin}${options.servername ? ` (certificate ${options.servername})` : ""}`;
  }

  async status(): Promise<MemberState> {
    return (await this.request("GET", "/patroni")) as MemberState;
  }

  async config(): Promise<Record<string, unknown>> {
    return (await this.request("GET", "/config")) as Record<string, unknown>;
  }

  async patchConfig(body: Readonly<Record<string, unknown>>): Promise<void> {
    await this.request("PATCH", "/config", body);
  }

  private request(method: "GET" | "PATCH", path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const token = Buffer.from(`${this.options.username}:${this.options.password}`).toString("base64");
    const headers: Record<string, string> = { Authorization: `Basic ${token}` };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const secure = this.url.protocol === "https:";
    const servername = this.options.servername;
    const base = {
      host: this.url.hostname,
      port: this.url.port || (secure ? 443 : 80),
      path,
      method,
      headers,
      timeout: this.options.timeoutMs ?? 10_000,
    };
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage): void => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          // GET /patroni answers 503 for a member that is not running normally, with its state.
          if (status >= 400 && !(path === "/patroni" && status === 503)) {
            reject(
              new Error(`${method} ${path} on ${this.description}: HTTP ${status} ${text.slice(0, 200)}`),
            );
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`${method} ${path} on ${this.description}: not JSON: ${text.slice(0, 200)}`));
          }
        });
      };
      const req = secure
        ? https.request(
            {
              ...base,
              ...(this.options.caFile ? { ca: fs.readFileSync(this.options.caFile) } : {}),
              ...(this.options.servername ? { servername: this.options.servername } : {}),
              // The certificate names the service, not the port-forward's loopback address.
              ...(servername
                ? {
                    checkServerIdentity: (_host: string, cert: tls.PeerCertificate) =>
                      tls.checkServerIdentity(servername, cert),
                  }
                : {}),
            },
            onResponse,
          )
        : http.request(base, onResponse);
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} on ${this.description} timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }
}
