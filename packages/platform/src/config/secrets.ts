import { type ConfigProblem, redacted } from "./problems";

/**
 * Detection of secrets stored as plain configuration. A key whose name ends like a credential
 * (`dbPassword`, `slack-token`, `apiKey`) or a value shaped like one (an AWS access key id, a PEM
 * private key, a GitHub token) must be a Pulumi secret (`pulumi config set --secret`), never plain
 * text in `Pulumi.<stack>.yaml`. Messages never include the value.
 */

const SECRET_KEY_SUFFIXES = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "secretkey",
  "secretaccesskey",
  "token",
  "apikey",
  "privatekey",
  "accesskey",
  "credential",
  "credentials",
  "connectionstring",
];

const SECRET_VALUE_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@]+@/, "a URL with an embedded password"],
];

/** True when a config key's name says it holds a credential. */
export function isSecretLookingKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SECRET_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/** What kind of credential a value looks like, or `undefined`. */
export function secretLookingValue(value: string): string | undefined {
  return SECRET_VALUE_PATTERNS.find(([re]) => re.test(value))?.[1];
}

/** True for the `{ secure: "v1:..." }` shape Pulumi writes for a secret in a stack config file. */
export function isSecureMarker(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/**
 * Walks a configuration value and reports every plain-text secret in it.
 *
 * @param path display path of `value`, e.g. `healthcare-platform:alerting`
 * @param value the value as read (strings, numbers, objects, arrays)
 * @param isSecret true when Pulumi already holds the whole value as a secret
 */
export function findPlaintextSecrets(path: string, value: unknown, isSecret: boolean): ConfigProblem[] {
  if (isSecret) {
    return [];
  }
  const problems: ConfigProblem[] = [];
  const keyName = path.slice(path.lastIndexOf(".") + 1).replace(/^[^:]*:/, "");
  const walk = (p: string, v: unknown, key: string): void => {
    if (isSecureMarker(v)) {
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(`${p}[${i}]`, item, key));
      return;
    }
    if (typeof v === "object" && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        walk(`${p}.${k}`, child, k);
      }
      return;
    }
    if (typeof v === "string" || typeof v === "number") {
      const byValue = typeof v === "string" ? secretLookingValue(v) : undefined;
      if (isSecretLookingKey(key) || byValue) {
        problems.push({
          path: p,
          received: redacted(v),
          allowed: byValue
            ? `no credentials in plain config (this value looks like ${byValue})`
            : "a Pulumi secret: keys named like credentials must not hold plain text",
          fix: `remove it from the stack file and run: pulumi config set --secret --path '${p}' <value> (or generate it with random.RandomPassword)`,
        });
      }
    }
  };
  walk(path, value, keyName);
  return problems;
}
