import { Parser, parseDocument, type YAMLError } from "yaml";

/**
 * Locates a YAML syntax error on the line the author has to edit. The `yaml` parser reports where
 * it noticed a problem, which is often not that line: a key indented one step too far is reported
 * on the line before it (as a value that "continues" there), an unclosed `[` or quote on the line
 * after it (or at the end of the file). This keeps the parser's diagnosis and moves the position
 * back to the cause, using the parser's own concrete syntax tree.
 */

/** A syntax error: 1-based line and column, what is wrong there and how to fix it. */
export interface YamlSyntaxError {
  readonly line: number;
  readonly column: number;
  /** What is there, as a noun phrase, without position or punctuation from the parser's message. */
  readonly problem: string;
  readonly fix: string;
}

interface CstToken {
  readonly type?: string;
  readonly offset?: number;
  readonly source?: string;
  readonly end?: readonly CstToken[];
}

/** 1-based line and column of an offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

/** The parser's message without its " at line L, column C:" suffix and code excerpt. */
function reason(e: YAMLError): string {
  return (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?\s*$/, "").trim();
}

/** Opening tokens of flow collections and quoted scalars that are never closed, by offset. */
function unclosed(text: string): Array<{ offset: number; kind: "sequence" | "mapping" | "quote" }> {
  const found: Array<{ offset: number; kind: "sequence" | "mapping" | "quote" }> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (typeof node !== "object" || node === null) {
      return;
    }
    const t = node as CstToken;
    if (t.type === "flow-collection" && t.offset !== undefined) {
      const opener = (node as { start?: CstToken }).start?.source;
      const closer = opener === "[" ? "flow-seq-end" : "flow-map-end";
      if (!(t.end ?? []).some((e) => e.type === closer)) {
        found.push({ offset: t.offset, kind: opener === "[" ? "sequence" : "mapping" });
      }
    }
    if (
      (t.type === "double-quoted-scalar" || t.type === "single-quoted-scalar") &&
      t.offset !== undefined &&
      t.source !== undefined
    ) {
      const quote = t.type === "double-quoted-scalar" ? '"' : "'";
      const body = t.source.trimEnd();
      if (body.length < 2 || !body.endsWith(quote) || (quote === '"' && /(^|[^\\])(\\\\)*\\"$/.test(body))) {
        found.push({ offset: t.offset, kind: "quote" });
      }
    }
    Object.values(node).forEach(walk);
  };
  for (const token of new Parser().parse(text)) {
    walk(token);
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** The first syntax error of a YAML text, located on the line to edit; `undefined` if it parses. */
export function yamlSyntaxError(text: string): YamlSyntaxError | undefined {
  const errors = parseDocument(text, { prettyErrors: true }).errors;
  const first = errors[0];
  if (!first) {
    return undefined;
  }
  const at = position(text, first.pos[0]);
  // An unclosed flow collection or quote swallows what follows; the parser notices later.
  const open = unclosed(text).find((u) => u.offset <= first.pos[0]);
  if (
    open &&
    (first.code === "BAD_INDENT" || first.code === "MISSING_CHAR" || first.code === "UNEXPECTED_TOKEN")
  ) {
    const p = position(text, open.offset);
    return open.kind === "quote"
      ? {
          ...p,
          problem: "a quoted string that starts here and is never closed",
          fix: "close the quote on the same line",
        }
      : {
          ...p,
          problem: `a flow ${open.kind} (${open.kind === "sequence" ? "[" : "{"}) that starts here and is never closed with ${open.kind === "sequence" ? "]" : "}"}`,
          fix: `close it on the same line, or write it as a block ${open.kind} (one entry per line)`,
        };
  }
  // A key indented deeper than its siblings reads as the previous value continuing onto its line:
  // the parser reports the previous value; the offending key is where the multi-line key ends.
  const multiline = errors.find((e) => e.code === "MULTILINE_IMPLICIT_KEY" && e.pos[0] === first.pos[0]);
  if (
    first.code === "BLOCK_AS_IMPLICIT_KEY" &&
    multiline &&
    position(text, multiline.pos[1]).line > at.line
  ) {
    const line = position(text, multiline.pos[1]).line;
    const content = text.split("\n")[line - 1] ?? "";
    return {
      line,
      column: content.length - content.trimStart().length + 1,
      problem: "a key indented deeper than the key before it",
      fix: "indent it exactly like the keys next to it",
    };
  }
  const problems: Record<string, string> = {
    DUPLICATE_KEY: "a key defined a second time in the same mapping",
    TAB_AS_INDENT: "a tab used for indentation",
    MULTILINE_IMPLICIT_KEY: "a key without a colon after it",
    BLOCK_AS_IMPLICIT_KEY: "a value containing ': ' (read as a nested mapping)",
  };
  const fixes: Record<string, string> = {
    DUPLICATE_KEY: "remove one of the two entries, or rename one",
    TAB_AS_INDENT: "indent with spaces, not tabs",
    MULTILINE_IMPLICIT_KEY: "write the key as `key: value` (a colon and a space after the key)",
    BLOCK_AS_IMPLICIT_KEY: "quote the value if it contains ': ', or put the key on its own line",
  };
  if (first.code === "MISSING_CHAR" && /without - indicator/.test(first.message)) {
    const content = text.split("\n")[at.line - 1] ?? "";
    return {
      line: at.line,
      column: content.length - content.trimStart().length + 1,
      problem: "a key indented less than the other keys of its list item",
      fix: "indent it exactly like the keys next to it",
    };
  }
  return {
    ...at,
    problem: problems[first.code] ?? `"${reason(first)}"`,
    fix: fixes[first.code] ?? "fix the YAML syntax at that position",
  };
}
