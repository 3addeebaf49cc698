/**
 * Heuristics for secrets written in plain text. Findings describe where (key, line), never what:
 * a violation message must not leak the secret it reports.
 */

/** Names (keys, variables) that hold secrets. */
export const SECRET_NAME =
  /(password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|cipher[-_]?pass|credentials?)$/i;

/** Values that are secrets whatever their name. */
const SECRET_CONTENT: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i, "a URL with an embedded password"],
];

/** True if a value is a reference or placeholder rather than a literal secret. */
export function isPlaceholder(value: string): boolean {
  const v = value
    .trim()
    .replace(/^["']|["']$/g, "")
    .trim();
  return (
    v === "" ||
    /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v) ||
    /^\$\(.*\)$/.test(v) ||
    v.startsWith("{{") ||
    v.startsWith("<") ||
    v.startsWith("/") ||
    v.startsWith("file:") ||
    /^(true|false|null|~|\*+)$/i.test(v)
  );
}

/** Where in a text (a rendered config file) secrets appear in plain text, e.g. "line 4 (password)". */
export function plaintextSecretsIn(text: string): string[] {
  const findings: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const [pattern, what] of SECRET_CONTENT) {
      if (pattern.test(line)) {
        findings.push(`line ${i + 1} (${what})`);
        return;
      }
    }
    const assignment = /^\s*-?\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*(.*)$/.exec(line);
    if (assignment && SECRET_NAME.test(assignment[1]) && !isPlaceholder(assignment[2])) {
      findings.push(`line ${i + 1} (${assignment[1]})`);
    }
  });
  return findings;
}

/** Findings for one key/value pair of a ConfigMap (or an env variable). */
export function plaintextSecretFindings(key: string, value: string): string[] {
  if (SECRET_NAME.test(key) && !value.includes("\n") && !isPlaceholder(value)) {
    return ["the key names a secret"];
  }
  return plaintextSecretsIn(value);
}
