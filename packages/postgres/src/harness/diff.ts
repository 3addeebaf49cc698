import * as assert from "node:assert/strict";

/**
 * What an integration test changed in a rendered artifact to run it on loopback. The diff is
 * computed from the rendered value and the value actually run, never declared by hand, and every
 * changed key must match an allowed rule (DCS, addresses/ports, paths, TLS file locations, local
 * secrets, PostgreSQL major/extension bits).
 */

export type ChangeKind = "added" | "removed" | "changed";

export interface Change {
  readonly path: string;
  readonly kind: ChangeKind;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** A category of local change and the keys (paths) it may touch. */
export interface AllowedChange {
  readonly reason: string;
  readonly paths: RegExp;
  /** Further condition on the change itself (e.g. only the address field of a pg_hba line). */
  readonly check?: (change: Change) => boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

/** Leaf-level differences between `before` and `after` (objects recurse; arrays recurse by index). */
export function diffValues(before: unknown, after: unknown, prefix = ""): Change[] {
  if (isObject(before) && isObject(after)) {
    const changes: Change[] = [];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of [...keys].sort()) {
      const p = join(prefix, key);
      if (!(key in after)) changes.push({ path: p, kind: "removed", from: before[key] });
      else if (!(key in before)) changes.push({ path: p, kind: "added", to: after[key] });
      else changes.push(...diffValues(before[key], after[key], p));
    }
    return changes;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: Change[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${prefix}[${i}]`;
      if (i >= after.length) changes.push({ path: p, kind: "removed", from: before[i] });
      else if (i >= before.length) changes.push({ path: p, kind: "added", to: after[i] });
      else changes.push(...diffValues(before[i], after[i], p));
    }
    return changes;
  }
  return JSON.stringify(before) === JSON.stringify(after)
    ? []
    : [{ path: prefix, kind: "changed", from: before, to: after }];
}

/** Differences between two INI documents parsed as section -> key -> value. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      result[section] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    (result[section] ??= {})[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return result;
}

/** Renders section -> key -> value back to INI text (sections and keys in the given order). */
export function formatIni(doc: Readonly<Record<string, Readonly<Record<string, string>>>>): string {
  return (
    Object.entries(doc)
      .map(([section, entries]) =>
        [`[${section}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${v}`)].join("\n"),
      )
      .join("\n\n") + "\n"
  );
}

/** Attributes each change to an allowed rule; fails listing every change no rule allows. */
export function assertOnlyAllowed(
  artifact: string,
  changes: readonly Change[],
  allowed: readonly AllowedChange[],
): Array<Change & { reason: string }> {
  const explained: Array<Change & { reason: string }> = [];
  const refused: Change[] = [];
  for (const change of changes) {
    const rule = allowed.find((r) => r.paths.test(change.path) && (r.check?.(change) ?? true));
    if (rule) explained.push({ ...change, reason: rule.reason });
    else refused.push(change);
  }
  assert.deepEqual(
    refused.map((c) => `${c.kind} ${c.path}: ${show(c.path, c.from)} -> ${show(c.path, c.to)}`),
    [],
    `${artifact}: the local run changed keys outside the allowed local differences`,
  );
  return explained;
}

/** Keys whose values are never printed (the last path segment). */
const SECRET_PATH = /(password|passwd|secret|token)[^.]*$/i;

function show(path: string, value: unknown): string {
  if (value === undefined) return "-";
  if (SECRET_PATH.test(path)) return "<redacted>";
  const text = JSON.stringify(value);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

/** A printable table of the changes (secret-looking values redacted). */
export function formatChanges(artifact: string, changes: ReadonlyArray<Change & { reason: string }>): string {
  const lines = [`    ${artifact}: ${changes.length} key(s) differ from the rendered artifact`];
  for (const c of changes) {
    lines.push(`      [${c.reason}] ${c.kind} ${c.path}: ${show(c.path, c.from)} -> ${show(c.path, c.to)}`);
  }
  return lines.join("\n");
}
