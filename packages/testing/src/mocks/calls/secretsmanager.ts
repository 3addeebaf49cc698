import { rpcSecret } from "../../secrets";
import { token } from "../tokens";

/**
 * `aws:secretsmanager/getSecretVersion`: what reading a secret returns. The mocks cannot know the
 * value another stack stored, so the content follows the shapes this repository writes (and a
 * program that reads a secret must parse): `@hcp/postgres`'s `DatabaseSecrets` credentials
 * (`{ engine, username, password, dbname, sslmode }`) and `DataTierTls`'s CA escrow
 * (`{ certificatePem, privateKeyPem }`, for a secret named `.../ca`). Values are deterministic tokens
 * of the stack and the secret; `secretString` is returned as a secret, as the provider marks it.
 */

/** Where the secret is read: the provider's region and account. */
export interface SecretCallContext {
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
}

function pem(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(body).toString("base64")}\n-----END ${label}-----\n`;
}

/** Name of a secret given as a name or an ARN (`...:secret:<name>-<6 random characters>`). */
export function secretNameOf(secretId: string): string {
  const arnMatch = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return arnMatch ? arnMatch[1] : secretId;
}

export function getSecretVersion(
  inputs: Readonly<Record<string, unknown>>,
  ctx: SecretCallContext,
): Record<string, unknown> {
  const secretId = inputs["secretId"];
  if (typeof secretId !== "string" || secretId === "") {
    throw new Error("StrictMocks: getSecretVersion needs a secretId (a secret name or ARN)");
  }
  if (secretId.startsWith("arn:")) {
    const region = secretId.split(":")[3];
    if (region !== ctx.region) {
      throw new Error(
        `StrictMocks: getSecretVersion of ${secretId} through a provider of ${ctx.region}: Secrets Manager ` +
          `answers for its own region only. Read the replica in ${ctx.region} or use a provider of ${region}.`,
      );
    }
  }
  const name = secretNameOf(secretId);
  const t = (attr: string) => token(ctx.stack, "getSecretVersion", name, attr);
  const suffix = t("suffix").slice(0, 6);
  const arn = secretId.startsWith("arn:")
    ? secretId
    : `arn:${ctx.partition}:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${suffix}`;
  const content = name.endsWith("/ca")
    ? { certificatePem: pem("CERTIFICATE", t("cert")), privateKeyPem: pem("PRIVATE KEY", t("key")) }
    : {
        engine: "postgres",
        username: name.split("/").pop() ?? "user",
        password: (t("password") + t("password2")).slice(0, 32),
        dbname: "healthcare",
        sslmode: "verify-full",
      };
  return {
    id: arn,
    arn,
    secretId,
    secretString: rpcSecret(JSON.stringify(content)),
    secretBinary: "",
    versionId: `${t("version").slice(0, 8)}-0000-4000-8000-${t("version2").slice(0, 12)}`,
    versionStages: ["AWSCURRENT"],
    createdDate: "2026-01-01T00:00:00Z",
  };
}
