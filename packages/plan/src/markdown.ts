import { type PlanDiff, type ResourceRef, type StackDiff, statefulSummary, totals } from "./diff";
import { changeLines } from "./diffReport";
import { kindOf } from "./findings";
import type { PolicyFinding } from "./model";

/**
 * The plan diff as a pull-request comment body: a hidden marker (so CI updates one sticky comment),
 * the summary table, then one collapsed `<details>` per stack. GitHub rejects comment bodies over
 * {@link COMMENT_LIMIT} characters, so details are cut (and the cut is stated) while the summary is
 * always complete.
 */

/** The hidden marker that identifies the sticky comment. */
export const COMMENT_MARKER = "<!-- hcp-plan-diff -->";

/** GitHub's maximum issue/PR comment body length, in characters. */
export const COMMENT_LIMIT = 65_536;

/** Options of {@link diffMarkdown}. */
export interface MarkdownOptions {
  /** @default - {@link COMMENT_LIMIT} */
  readonly limit?: number;
  /** Where the untruncated diff can be found, named in the truncation note. */
  readonly fullDiffHint?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text for a table cell or list item: HTML escaped, one line, no pipes breaking the table. */
function inline(text: string): string {
  return escapeHtml(text.split("\n").join(" ")).replace(/\|/g, "\\|");
}

/** `type::name` of a URN, the part a reviewer recognizes. */
export function shortUrn(urn: string): string {
  const parts = urn.split("::");
  if (parts.length < 4) {
    return urn;
  }
  const type = parts[2].split("$").pop() ?? parts[2];
  return `${type}::${parts.slice(3).join("::")}`;
}

function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function fenceFor(lines: readonly string[]): string {
  const longest = Math.max(0, ...lines.flatMap((l) => (l.match(/`+/g) ?? []).map((m) => m.length)));
  return "`".repeat(Math.max(3, longest + 1));
}

const ICON: Record<PolicyFinding["level"], string> = {
  mandatory: "🔴",
  advisory: "🟡",
  remediate: "🔧",
  disabled: "⚪",
};

function findingItem(f: PolicyFinding, resolved: boolean): string {
  const where = f.urn ? code(shortUrn(f.urn)) : "the stack";
  const level = resolved ? `✅ ~~${f.level}~~` : `${ICON[f.level]} **${f.level}**`;
  const controls = f.controls && f.controls.length > 0 ? ` (${f.controls.map(inline).join(", ")})` : "";
  return `- ${level} ${code(f.policy)}${controls} on ${where}: ${inline(f.message)}`;
}

/**
 * New and resolved violations per control (a finding counts under each control its policy
 * implements; "could not run" notices are not violations and are left out). Findings of documents
 * without controls are listed under "(no control)".
 */
function controlLines(diff: PlanDiff): string[] {
  const rows = new Map<string, { added: PolicyFinding[]; resolved: PolicyFinding[] }>();
  const add = (f: PolicyFinding, side: "added" | "resolved") => {
    if (kindOf(f) !== "violation") {
      return;
    }
    for (const c of f.controls && f.controls.length > 0 ? f.controls : ["(no control)"]) {
      const row = rows.get(c) ?? { added: [], resolved: [] };
      row[side].push(f);
      rows.set(c, row);
    }
  };
  for (const s of diff.stacks) {
    s.newFindings.forEach((f) => add(f, "added"));
    s.resolvedFindings.forEach((f) => add(f, "resolved"));
  }
  if (rows.size === 0) {
    return [];
  }
  const lines = [
    "**Policy findings by control**",
    "",
    "| Control | New mandatory | New advisory | Resolved | New mandatory findings |",
    "|---|--:|--:|--:|---|",
  ];
  for (const [control, row] of [...rows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const mandatory = row.added.filter((f) => f.level === "mandatory");
    const named = mandatory
      .slice(0, 5)
      .map((f) => `${code(f.policy)} on ${f.urn ? code(shortUrn(f.urn)) : "the stack"}`)
      .join("; ");
    const more = mandatory.length > 5 ? ` and ${mandatory.length - 5} more` : "";
    lines.push(
      `| ${inline(control)} | ${mandatory.length} | ${row.added.length - mandatory.length} | ${row.resolved.length} | ${named}${more} |`,
    );
  }
  lines.push("");
  return lines;
}

/** A part of a stack's details: lines between a head and a tail, cut from the end if needed. */
interface Block {
  readonly head: readonly string[];
  readonly lines: readonly string[];
  readonly tail: readonly string[];
}

function resourceLine(sign: string, r: ResourceRef): string {
  return `${sign} ${r.type}  ${r.name}`;
}

function stackBlocks(s: StackDiff): Block[] {
  const blocks: Block[] = [];
  if (s.newFindings.length > 0) {
    blocks.push({
      head: ["**New policy findings**", ""],
      lines: s.newFindings.map((f) => findingItem(f, false)),
      tail: [""],
    });
  }
  if (s.resolvedFindings.length > 0) {
    blocks.push({
      head: ["**Resolved policy findings**", ""],
      lines: s.resolvedFindings.map((f) => findingItem(f, true)),
      tail: [""],
    });
  }
  if (s.statefulRisks.length > 0) {
    blocks.push({
      head: ["**Stateful resources lost**", ""],
      lines: s.statefulRisks.map(
        (r) =>
          `- ⚠️ ${code(r.type)} ${code(r.name)} would be **${r.action === "delete" ? "deleted" : "replaced"}**: ${inline(r.reason)}`,
      ),
      tail: [""],
    });
  }
  const resources = [
    ...s.added.map((r) => resourceLine("+", r)),
    ...s.removed.map((r) => resourceLine("-", r)),
    ...s.renamed.flatMap((r) => [
      `  ${r.type}  ${r.from.name} → ${r.name} (renamed, state kept)`,
      ...r.changes.flatMap((c) => changeLines(c).map((l) => `    ${l}`)),
    ]),
    ...s.changed.flatMap((r) => [
      resourceLine("!", r),
      ...r.changes.flatMap((c) => changeLines(c).map((l) => `    ${l}`)),
    ]),
  ];
  if (resources.length > 0) {
    const fence = fenceFor(resources);
    blocks.push({ head: ["**Resources**", "", `${fence}diff`], lines: resources, tail: [fence, ""] });
  }
  if (s.outputs.length > 0) {
    const lines = s.outputs.flatMap((c) => changeLines({ ...c, kind: "input" }).map((l) => `! ${l}`));
    const fence = fenceFor(lines);
    blocks.push({
      head: ["**Stack outputs (contract)**", "", `${fence}diff`],
      lines,
      tail: [fence, ""],
    });
  }
  return blocks;
}

function size(lines: readonly string[]): number {
  return lines.reduce((n, l) => n + l.length + 1, 0);
}

interface Fitted {
  readonly lines: string[];
  readonly omittedLines: number;
}

/**
 * Renders a details section within `budget` characters: whole blocks while they fit, then the
 * first lines of the block that does not, with a note of what was left out. `undefined` if not
 * even the frame fits.
 */
function fitSection(header: readonly string[], blocks: readonly Block[], budget: number): Fitted | undefined {
  const footer = ["</details>", ""];
  const note = (n: number) => `… ${n} more line(s) of this stack not shown (comment size limit)`;
  const all = [...header, ...blocks.flatMap((b) => [...b.head, ...b.lines, ...b.tail]), ...footer];
  if (size(all) <= budget) {
    return { lines: all, omittedLines: 0 };
  }
  const total = blocks.reduce((n, b) => n + b.lines.length, 0);
  const reserve = note(total).length + 2;
  let used = size(header) + size(footer) + reserve;
  if (used > budget) {
    return undefined;
  }
  const out = [...header];
  let shown = 0;
  for (const b of blocks) {
    const frame = size(b.head) + size(b.tail);
    if (used + frame + (b.lines[0]?.length ?? 0) + 1 > budget) {
      break;
    }
    used += frame;
    const taken: string[] = [];
    for (const l of b.lines) {
      if (used + l.length + 1 > budget) {
        break;
      }
      taken.push(l);
      used += l.length + 1;
    }
    out.push(...b.head, ...taken, ...b.tail);
    shown += taken.length;
    if (taken.length < b.lines.length) {
      break;
    }
  }
  out.push(note(total - shown), "", ...footer);
  return { lines: out, omittedLines: total - shown };
}

function sectionHeader(s: StackDiff): string[] {
  const mandatory = s.newFindings.filter((f) => f.level === "mandatory").length;
  const parts = [
    `${s.status}`,
    `+${s.added.length} −${s.removed.length} ~${s.changed.length}${s.renamed.length > 0 ? ` →${s.renamed.length}` : ""}`,
    ...(s.statefulRisks.length > 0 ? [`⚠️ ${s.statefulRisks.length} stateful lost`] : []),
    ...(s.newFindings.length > 0
      ? [`${s.newFindings.length} new finding(s)${mandatory ? `, ${mandatory} mandatory` : ""}`]
      : []),
    ...(s.resolvedFindings.length > 0 ? [`${s.resolvedFindings.length} resolved`] : []),
  ];
  return [
    `<details><summary><code>${escapeHtml(s.label)}</code> (${escapeHtml(s.environment)}): ${parts.join(", ")}</summary>`,
    "",
  ];
}

function summaryLines(diff: PlanDiff): string[] {
  const t = totals(diff);
  const verdict =
    t.headMandatory > 0
      ? `❌ **${t.headMandatory} mandatory policy violation(s)** in this pull request's plan (${t.newMandatory} new).`
      : diff.headErrors.length > 0
        ? `❌ **The plan of this pull request failed** (${diff.headErrors.length} error(s)); see below.`
        : "✅ No mandatory policy violations.";
  const lines = [
    COMMENT_MARKER,
    "### Offline plan diff",
    "",
    verdict,
    "",
    `${t.statefulDeleted + t.statefulReplaced > 0 ? "⚠️" : "✅"} ${statefulSummary(diff)}`,
    "",
    "| Stack | Env | Status | + | − | ~ | → renamed | New mandatory | New advisory | Resolved |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const shown = diff.stacks.filter(
    (s) => s.status !== "unchanged" || s.newFindings.length > 0 || s.resolvedFindings.length > 0,
  );
  for (const s of shown) {
    const level = (l: string) => s.newFindings.filter((f) => f.level === l).length;
    lines.push(
      `| ${code(s.label)} | ${inline(s.environment)} | ${s.status} | ${s.added.length} | ${s.removed.length} | ${s.changed.length} | ${s.renamed.length} | ${level("mandatory")} | ${level("advisory")} | ${s.resolvedFindings.length} |`,
    );
  }
  lines.push(
    `| **Total** | | ${t.stacksAdded + t.stacksRemoved + t.stacksChanged} of ${diff.stacks.length} stacks differ | ${t.resourcesAdded} | ${t.resourcesRemoved} | ${t.resourcesChanged} | ${t.resourcesRenamed} | ${t.newMandatory} | ${t.newAdvisory} | ${t.resolved} |`,
    "",
    `Head plan: ${t.headMandatory} mandatory, ${t.headAdvisory} advisory finding(s) in total; ${t.stacksUnchanged} stack(s) unchanged.` +
      (diff.headErrors.length > 0 ? ` **${diff.headErrors.length} plan error(s).**` : ""),
    "",
    ...controlLines(diff),
  );
  return lines;
}

function errorSection(diff: PlanDiff): { header: string[]; blocks: Block[] } | undefined {
  if (diff.headErrors.length === 0) {
    return undefined;
  }
  const lines = diff.headErrors.flatMap((e) => [
    `${e.kind} error in ${e.stack ?? e.environment}:`,
    ...e.message.split("\n").map((l) => `  ${l}`),
  ]);
  const fence = fenceFor(lines);
  return {
    header: [`<details open><summary>Plan errors in head (${diff.headErrors.length})</summary>`, ""],
    blocks: [{ head: [fence], lines, tail: [fence, ""] }],
  };
}

/** The PR comment body: summary first, details truncated to fit `limit`. */
export function diffMarkdown(diff: PlanDiff, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const hint = options.fullDiffHint ?? "run `pnpm plan:diff base.json head.json` for the full diff";
  const summary = summaryLines(diff);
  const interesting = diff.stacks.filter(
    (s) => s.status !== "unchanged" || s.newFindings.length > 0 || s.resolvedFindings.length > 0,
  );
  // Stacks that gained mandatory findings first: they are what the reviewer must look at.
  const ordered = [
    ...interesting.filter((s) => s.newFindings.some((f) => f.level === "mandatory")),
    ...interesting.filter((s) => !s.newFindings.some((f) => f.level === "mandatory")),
  ];
  const sections = [
    ...(errorSection(diff) ? [{ label: "plan errors", ...errorSection(diff)! }] : []),
    ...ordered.map((s) => ({ label: s.label, header: sectionHeader(s), blocks: stackBlocks(s) })),
  ];
  const truncationNote = (omitted: readonly string[], cut: readonly string[], lines: number) => [
    "",
    `> ⚠️ Details truncated to fit GitHub's ${COMMENT_LIMIT.toLocaleString("en-US")}-character comment limit: ` +
      `${cut.length} section(s) cut short (${lines} line(s) not shown)` +
      (omitted.length > 0
        ? `, ${omitted.length} section(s) left out (${omitted.map((o) => code(o)).join(", ")})`
        : "") +
      `. The summary above is complete; ${hint}.`,
    "",
  ];
  // Reserve room for the longest possible note (every section left out) so the body never overflows.
  const reserve = size(
    truncationNote(
      sections.map((s) => s.label),
      [],
      Number.MAX_SAFE_INTEGER,
    ),
  );
  let budget = limit - size(summary) - reserve;
  const body: string[] = [];
  const omitted: string[] = [];
  const cut: string[] = [];
  let omittedLines = 0;
  for (const s of sections) {
    const fitted = budget > 0 ? fitSection(s.header, s.blocks, budget) : undefined;
    if (!fitted) {
      omitted.push(s.label);
      continue;
    }
    body.push(...fitted.lines);
    budget -= size(fitted.lines);
    if (fitted.omittedLines > 0) {
      cut.push(s.label);
      omittedLines += fitted.omittedLines;
    }
  }
  const note = omitted.length + cut.length > 0 ? truncationNote(omitted, cut, omittedLines) : [];
  return [...summary, ...body, ...note].join("\n");
}
