/**
 * Configuration problems: every check collects problems instead of throwing, and the parser throws
 * one {@link ConfigError} listing them all, so an operator fixes a config file in one pass.
 */

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Full key path, e.g. `healthcare-platform:regions[1].vpcCidr`. */
  readonly path: string;
  /** The value received, already rendered for display (secrets are never rendered). */
  readonly received: string;
  /** What the key accepts. */
  readonly allowed: string;
  /** How to fix it, as an instruction. */
  readonly fix: string;
}

/** Something about the configuration worth saying that does not stop it (a stale reference table). */
export interface ConfigWarning {
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

/** Renders a warning as a single line. */
export function formatWarning(w: ConfigWarning): string {
  return `${w.path}: ${w.message}; fix: ${w.fix}`;
}

/** Thrown once with every problem found in a configuration. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    /** Where the configuration came from, e.g. `Pulumi.production.yaml`. */
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(source, problems));
  }

  /** True for a {@link ConfigError}, also across copies of this module loaded twice. */
  static isInstance(e: unknown): e is ConfigError {
    return e instanceof Error && e.name === "ConfigError" && Array.isArray((e as ConfigError).problems);
  }
}

/** Renders one problem as a single line. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: got ${p.received}; allowed: ${p.allowed}; fix: ${p.fix}`;
}

/** Renders a list of problems with a header naming the source. */
export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const noun = problems.length === 1 ? "problem" : "problems";
  return [
    `Invalid configuration in ${source} (${problems.length} ${noun}):`,
    ...problems.map((p) => `  - ${formatProblem(p)}`),
  ].join("\n");
}

const MAX_SHOWN = 80;

/**
 * Renders a received value for a message. Strings are quoted, long values are cut, and anything
 * under a key that looks secret must not come through here: use {@link redacted} for those.
 */
export function show(value: unknown): string {
  if (value === undefined) {
    return "nothing (the key is missing)";
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = `an unserializable ${typeof value}`;
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** What a message shows in place of a value that may be a secret. */
export function redacted(value: unknown): string {
  const length = typeof value === "string" ? `${value.length} characters` : typeof value;
  return `a plain-text value (${length}, not shown)`;
}
