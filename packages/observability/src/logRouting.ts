import type { ConfigSection } from "./logShipping";

/**
 * Fluent Bit is not installable here (neither Debian nor npm ships it), so the rendered
 * configuration cannot be run. This evaluates it instead, for the subset of Fluent Bit the layer
 * uses, with Fluent Bit 4.0.3's semantics read from its source:
 *
 * - tail: the tag's `*` becomes the file path without its leading `/`, `/` replaced by `.`; the
 *   `cri` multiline parser splits `<time> <stream> <F|P> <log>` and joins `P` (partial) lines;
 * - `Match`: a wildcard over the whole tag (`src/flb_router.c`, `router_match`); `Match_Regex`:
 *   `onig_match` at the tag's start with a non-empty match;
 * - multiline filter (first filter, buffered): regex rules from `start_state` to states, a line
 *   matching a continuation is appended after `\n`, a line matching `start_state` flushes the
 *   previous group, any other line flushes and passes alone (`src/multiline/flb_ml_rule.c`);
 * - kubernetes filter with `Merge_Log Off`: metadata only, the record's tag and `log` unchanged;
 * - rewrite_tag: the first rule whose regex is found (`onig_search`) in the key's value re-emits
 *   the record with the new tag (only `$TAG` is expanded here) at the start of the pipeline,
 *   dropping the original unless KEEP; an emitted record the same filter matches is a cycle;
 * - outputs: every output whose match the tag satisfies receives the record.
 *
 * Regular expressions are run by JavaScript's engine, which agrees with Onigmo only on a plain
 * subset; {@link portableRegexProblems} refuses anything outside it.
 */

/** One record as an output receives it. */
export interface RoutedRecord {
  /** The output's `Alias`. */
  readonly output: string;
  /** The output's `log_group_name`. */
  readonly logGroup: string;
  readonly tag: string;
  readonly log: string;
}

interface LogRecord {
  readonly tag: string;
  readonly fields: Readonly<Record<string, string>>;
}

const get = (s: ConfigSection, key: string): string | undefined =>
  s.entries.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
const all = (s: ConfigSection, key: string): string[] =>
  s.entries.filter(([k]) => k.toLowerCase() === key.toLowerCase()).map(([, v]) => v);

/**
 * Regex constructs whose meaning differs between Onigmo (Ruby syntax) and JavaScript, or that this
 * evaluator does not model: an unescaped `.` (Onigmo's `.` and `$` treat newlines differently once
 * multiline records exist), lookaround, named groups, `\h` / `\A` / `\z` / `\Z` / `\G` / `\K`,
 * POSIX brackets, inline options, backreferences. Empty list: the pattern means the same in both.
 */
export function portableRegexProblems(pattern: string): string[] {
  const problems: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!/^[.sdt[\]()|^$*+?{}\\/]$/.test(next)) {
        problems.push(`escape \\${next} at ${i} (only \\s \\d \\t and escaped punctuation are portable)`);
      }
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      if (ch === "[" && pattern[i + 1] === ":") problems.push("POSIX bracket [:...:]");
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === ".") problems.push(`unescaped '.' at ${i} (newline semantics differ)`);
    else if (ch === "(" && pattern[i + 1] === "?")
      problems.push(`group '(?' at ${i} (lookaround, options, names)`);
    else if (ch === "$" && i !== pattern.length - 1) problems.push(`'$' not at the end (${i})`);
    else if (ch === "^" && i !== 0) problems.push(`'^' not at the start (${i})`);
  }
  return problems;
}

function regex(pattern: string, where: string, flags = ""): RegExp {
  const problems = portableRegexProblems(pattern);
  if (problems.length > 0) {
    throw new Error(`${where}: /${pattern}/ is not portable to Onigmo: ${problems.join("; ")}`);
  }
  return new RegExp(pattern, flags);
}

/** Fluent Bit's `Match` / `Match_Regex` of a section against a tag. */
export function matchesTag(s: ConfigSection, tag: string, where: string): boolean {
  const re = get(s, "Match_Regex");
  if (re !== undefined) {
    // onig_match at position 0: anchored at the start, a non-empty match.
    const m = regex(re, `${where} Match_Regex`, "y").exec(tag);
    if (m && m[0].length > 0) {
      return true;
    }
  }
  const match = get(s, "Match");
  if (match === undefined) {
    return false;
  }
  const glob = new RegExp(
    `^${match
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return glob.test(tag);
}

/** Splits a value into tokens the way `flb_slist_split_tokens` does (double quotes group). */
export function splitTokens(value: string): string[] {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of value.matchAll(re)) {
    tokens.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]);
  }
  return tokens;
}

interface MultilineRule {
  readonly from: string;
  readonly regex: RegExp;
  readonly to: string;
}

function multilineRules(parsers: readonly ConfigSection[], name: string): MultilineRule[] {
  const parser = parsers.find((p) => p.name === "MULTILINE_PARSER" && get(p, "Name") === name);
  if (!parser) {
    throw new Error(`multiline parser '${name}' is not defined in the parsers file`);
  }
  if (get(parser, "Type") !== "regex") {
    throw new Error(`multiline parser '${name}': only Type regex is modelled`);
  }
  return all(parser, "Rule").map((r) => {
    const [from, body, to] = splitTokens(r);
    const m = /^\/(.*)\/$/.exec(body ?? "");
    if (!from || !to || !m) {
      throw new Error(`multiline parser '${name}': rule '${r}' is not "state" "/regex/" "next"`);
    }
    return { from, regex: regex(m[1], `multiline parser ${name}`), to };
  });
}

/** Joins lines by a multiline parser's rules (see the module comment); each group keeps its first line's fields. */
function joinLines(
  lines: ReadonlyArray<Readonly<Record<string, string>>>,
  key: string,
  rules: readonly MultilineRule[],
): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  let group: Record<string, string> | undefined;
  let state: string | undefined;
  const flush = () => {
    if (group !== undefined) out.push(group);
    group = undefined;
    state = undefined;
  };
  for (const fields of lines) {
    const line = fields[key] ?? "";
    if (group !== undefined) {
      const cont = rules.find((r) => r.from === state && r.from !== "start_state" && r.regex.test(line));
      if (cont) {
        const text = group[key] ?? "";
        group = { ...group, [key]: `${text.endsWith("\n") ? text : `${text}\n`}${line}` };
        state = cont.to;
        continue;
      }
    }
    const start = rules.find((r) => r.from === "start_state" && r.regex.test(line));
    flush();
    if (start) {
      group = { ...fields };
      state = start.to;
    } else {
      out.push({ ...fields });
    }
  }
  flush();
  return out;
}

const CRI = /^(\S+) (stdout|stderr) (F|P) (.*)$/;

/** The `cri` multiline parser: `stream` and `log` of each complete line (`P` lines joined). */
export function parseCriLines(lines: readonly string[]): Array<{ stream: string; log: string }> {
  const out: Array<{ stream: string; log: string }> = [];
  let partial = "";
  for (const line of lines) {
    const m = CRI.exec(line);
    if (!m) {
      throw new Error(`not a CRI log line: '${line}'`);
    }
    if (m[3] === "P") {
      partial += m[4];
      continue;
    }
    out.push({ stream: m[2], log: partial + m[4] });
    partial = "";
  }
  return out;
}

/** A container log file as the kubelet writes it: path and raw CRI lines. */
export interface ContainerLogFile {
  readonly path: string;
  readonly lines: readonly string[];
}

/** Routes one container log file through the rendered configuration (main and parsers files). */
export function routeFile(
  main: readonly ConfigSection[],
  parsers: readonly ConfigSection[],
  file: ContainerLogFile,
): RoutedRecord[] {
  const inputs = main.filter((s) => s.name === "INPUT");
  const filters = main.filter((s) => s.name === "FILTER");
  const outputs = main.filter((s) => s.name === "OUTPUT");
  const input = inputs.find((s) => {
    const glob = get(s, "Path") ?? "";
    const re = new RegExp(
      `^${glob
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*")}$`,
    );
    return get(s, "Name") === "tail" && re.test(file.path);
  });
  if (!input) {
    return [];
  }
  if (get(input, "multiline.parser") !== "cri") {
    throw new Error("only tail inputs with multiline.parser cri are modelled");
  }
  const tag = (get(input, "Tag") ?? "").replace("*", file.path.replace(/^\//, "").replace(/\//g, "."));
  let records: LogRecord[] = parseCriLines(file.lines).map((l) => ({ tag, fields: { ...l } }));

  // The buffered multiline filter (it must be the first filter; it ignores its own re-emissions).
  let start = 0;
  const first = filters[0];
  if (first && get(first, "Name") === "multiline") {
    start = 1;
    if (matchesTag(first, tag, "filter multiline")) {
      const key = get(first, "multiline.key_content") ?? "log";
      const rules = multilineRules(parsers, get(first, "multiline.parser") ?? "");
      records = joinLines(
        records.map((r) => r.fields),
        key,
        rules,
      ).map((fields) => ({ tag, fields }));
    }
  }
  if (filters.slice(1).some((f) => get(f, "Name") === "multiline")) {
    throw new Error("a multiline filter must be the first filter (its records re-enter the pipeline)");
  }

  const routed: RoutedRecord[] = [];
  const run = (record: LogRecord, depth: number): void => {
    if (depth > 8) {
      throw new Error(`record re-tagged more than 8 times (last tag ${record.tag})`);
    }
    for (const [index, f] of filters.entries()) {
      if (index < start || !matchesTag(f, record.tag, `filter ${get(f, "Alias") ?? index}`)) {
        continue;
      }
      const name = get(f, "Name");
      if (name === "kubernetes") {
        if ((get(f, "Merge_Log") ?? "Off").toLowerCase() !== "off") {
          throw new Error("the kubernetes filter is modelled with Merge_Log Off only");
        }
        continue;
      }
      if (name !== "rewrite_tag") {
        throw new Error(`filter ${name} is not modelled`);
      }
      for (const rule of all(f, "Rule")) {
        const [key, pattern, newTag, keep] = splitTokens(rule);
        const field = /^\$([A-Za-z_]+)$/.exec(key ?? "");
        if (!field || !pattern || !newTag || !keep) {
          throw new Error(`rewrite_tag rule '${rule}' is not '$key regex tag keep'`);
        }
        if (/\$(?!TAG\b)/.test(newTag)) {
          throw new Error(`rewrite_tag rule '${rule}': only $TAG is modelled in the new tag`);
        }
        const value = record.fields[field[1]];
        if (value !== undefined && value.includes("\n") && /^\^|[^\\]\$$/.test(pattern)) {
          // Onigmo's ^ and $ are line anchors, JavaScript's (without m) string anchors.
          throw new Error(
            `rewrite_tag rule '${rule}': an anchored pattern on a multi-line value is not portable`,
          );
        }
        if (value === undefined || !regex(pattern, `rewrite_tag ${get(f, "Alias") ?? index}`).test(value)) {
          continue;
        }
        const emitted = { tag: newTag.replace(/\$TAG/g, record.tag), fields: record.fields };
        if (matchesTag(f, emitted.tag, "emitter cycle check")) {
          throw new Error(
            `emitter cycle: filter ${get(f, "Alias") ?? index} matches the tag it emits (${emitted.tag})`,
          );
        }
        run(emitted, depth + 1);
        if (!/^(true|on|yes)$/i.test(keep)) {
          return;
        }
        break;
      }
    }
    for (const o of outputs) {
      if (matchesTag(o, record.tag, `output ${get(o, "Alias") ?? ""}`)) {
        routed.push({
          output: get(o, "Alias") ?? get(o, "Name") ?? "",
          logGroup: get(o, "log_group_name") ?? "",
          tag: record.tag,
          log: record.fields["log"] ?? "",
        });
      }
    }
  };
  for (const r of records) {
    run(r, 0);
  }
  return routed;
}
