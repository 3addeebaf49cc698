import { z } from "zod";
import { environmentSchema } from "./schema";

/**
 * The README's configuration reference, generated from {@link environmentSchema}: every key with
 * its type, allowed values and ranges, default and `.describe()` text. The schema is the one place
 * a key is defined; a new section (workloads, observability, dr) is documented by adding it there.
 * The walk goes over zod's own JSON Schema export (`z.toJSONSchema`, input side, so defaults show).
 */

/** The subset of JSON Schema that `z.toJSONSchema` emits for the environment schema. */
interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly pattern?: string;
  readonly format?: string;
}

/** One documented key. */
export interface ReferenceRow {
  /** `regions[].sizes.nodeGroups.{system,database,workloads}.minSize`, relative to the namespace. */
  readonly key: string;
  readonly type: string;
  /** `required`, `optional` or the default value. */
  readonly default: string;
  readonly description: string;
}

const literal = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;

/** Patterns short enough to help a reader; longer ones are described in words. */
const MAX_PATTERN = 40;

function range(s: JsonSchema): string {
  const parts: string[] = [];
  const lowValue = s.exclusiveMinimum ?? s.minimum;
  const low =
    lowValue === undefined || lowValue <= Number.MIN_SAFE_INTEGER
      ? ""
      : s.exclusiveMinimum !== undefined
        ? `> ${lowValue}`
        : `${lowValue}`;
  const highValue = s.exclusiveMaximum ?? s.maximum;
  const high =
    highValue === undefined || highValue >= Number.MAX_SAFE_INTEGER
      ? ""
      : s.exclusiveMaximum !== undefined
        ? `< ${highValue}`
        : `${highValue}`;
  if (low && high && !low.startsWith(">") && !high.startsWith("<")) {
    parts.push(`${low}–${high}`);
  } else {
    if (low) {
      parts.push(low.startsWith(">") ? low : `≥ ${low}`);
    }
    if (high) {
      parts.push(high.startsWith("<") ? high : `≤ ${high}`);
    }
  }
  return parts.join(", ");
}

/** The type column: type, allowed values, ranges, patterns. */
function typeOf(s: JsonSchema): string {
  if (s.enum) {
    return s.enum.map(code).join(" | ");
  }
  if (s.const !== undefined) {
    return code(s.const);
  }
  const variants = s.anyOf ?? s.oneOf;
  if (variants) {
    return variants.map((v) => variantLabel(v)).join(" or ");
  }
  switch (s.type) {
    case "integer":
    case "number": {
      const r = range(s);
      return `${s.type}${r ? ` ${r}` : ""}`;
    }
    case "string": {
      const extras: string[] = [];
      if (s.format === "uri") {
        extras.push(s.pattern?.includes("https") ? "https URL" : "URL");
      } else if (s.pattern !== undefined && s.pattern.length <= MAX_PATTERN) {
        extras.push(`matching ${code(s.pattern)}`);
      } else if (s.minLength !== undefined && s.minLength > 1) {
        extras.push(`at least ${s.minLength} characters`);
      } else if (s.minLength === 1) {
        extras.push("non-empty");
      }
      return ["string", ...extras].join(", ");
    }
    case "array": {
      const item = s.items ? typeOf(s.items) : "values";
      const min = s.minItems !== undefined && s.minItems > 0 ? `, at least ${s.minItems}` : "";
      return `list of ${item.startsWith("object") ? "objects" : item}${min}`;
    }
    case "object":
      return "object";
    default:
      return s.type ?? "any";
  }
}

/** `{ type: s3, bucket, kmsKeyAlias }` for one alternative of a discriminated union. */
function variantLabel(v: JsonSchema): string {
  const fields = Object.entries(v.properties ?? {}).map(([k, p]) =>
    p.const !== undefined ? `${k}: ${literal(p.const)}` : k,
  );
  return `\`{ ${fields.join(", ")} }\``;
}

function defaultOf(s: JsonSchema, required: boolean, inherited: unknown): string {
  if (s.default === undefined && inherited !== undefined) {
    return code(inherited);
  }
  if (s.default !== undefined) {
    return typeof s.default === "object" && s.default !== null && !Array.isArray(s.default)
      ? "each key's default"
      : code(s.default);
  }
  return required ? "required" : "optional";
}

/**
 * Rows of a key and its children. `inherited` is the key's value in its parent's default (a key
 * under a defaulted object has that default when the object is left out).
 */
function rows(
  s: JsonSchema,
  key: string,
  required: boolean,
  out: ReferenceRow[],
  note = "",
  inherited?: unknown,
): void {
  out.push({
    key,
    type: typeOf(s),
    default: defaultOf(s, required, inherited),
    description: `${s.description ?? ""}${note}`.trim(),
  });
  const variants = s.anyOf ?? s.oneOf;
  if (variants) {
    for (const v of variants) {
      const tag = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
      const label = tag ? ` (with ${tag[0]}: ${literal(tag[1].const)})` : "";
      children(v, key, out, label);
    }
    return;
  }
  if (s.type === "array" && s.items?.type === "object") {
    children(s.items, `${key}[]`, out);
  } else if (s.type === "object") {
    children(s, key, out, "", s.default ?? inherited);
  }
}

function children(s: JsonSchema, key: string, out: ReferenceRow[], note = "", defaults?: unknown): void {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  // Sibling objects with one shape (the node groups) are documented once, under all their names.
  const shapes = new Set(props.map(([, p]) => JSON.stringify(p)));
  if (props.length > 1 && shapes.size === 1 && props[0][1].type === "object") {
    children(props[0][1], `${key}.{${props.map(([k]) => k).join(",")}}`, out, note);
    return;
  }
  for (const [name, p] of props) {
    if (p.const !== undefined) {
      continue;
    }
    const inherited =
      typeof defaults === "object" && defaults !== null
        ? (defaults as Record<string, unknown>)[name]
        : undefined;
    rows(p, `${key}.${name}`, required.has(name), out, note, inherited);
  }
}

/** Every key of the environment schema, section by section (top-level key → its rows). */
export function configurationRows(): Array<{ section: string; schema: JsonSchema; rows: ReferenceRow[] }> {
  const root = z.toJSONSchema(environmentSchema, { io: "input" }) as JsonSchema;
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).map(([section, schema]) => {
    const out: ReferenceRow[] = [];
    rows(schema, section, required.has(section), out);
    return { section, schema, rows: out };
  });
}

/** The configuration reference as Markdown: per top-level key, its description and a table of its keys. */
export function configurationReference(): string {
  const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const parts: string[] = [];
  for (const { section, rows: sectionRows } of configurationRows()) {
    const [head, ...rest] = sectionRows;
    const table = head.type === "object" ? rest : sectionRows;
    parts.push(`### \`${section}\``);
    if (head.type === "object") {
      const presence =
        head.default === "required" || head.default === "optional"
          ? head.default
          : `default: ${head.default}`;
      parts.push("", `${head.description} (${presence}).`);
    }
    if (table.length > 0) {
      parts.push(
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        ...table.map(
          (r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`,
        ),
      );
    }
    parts.push("");
  }
  return parts.join("\n").trimEnd();
}
