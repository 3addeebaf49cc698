/**
 * Command-line options of the benchmarks: `--flag value` pairs, every problem reported at once with
 * the flag, the bad value, what is allowed and the usage line, so a mistyped flag or variant never
 * silently runs the default benchmark for half an hour.
 */

/** One option a benchmark accepts. */
export interface OptionSpec {
  /** Flag including the dashes, e.g. `--runs`. */
  readonly flag: string;
  /** What the value is, for the usage line, e.g. `N>=1`. */
  readonly value: string;
}

/** Parsed options of one benchmark; each accessor records a problem instead of throwing. */
export class BenchOptions {
  private readonly problems: string[] = [];
  private readonly values = new Map<string, string>();

  /**
   * @param command name in the usage line (`alerting`, `dr`, ...)
   * @param argv the arguments after the script (`process.argv.slice(2)`)
   * @param specs every option the command accepts; any other `--flag` is a problem
   */
  constructor(
    private readonly command: string,
    argv: readonly string[],
    private readonly specs: readonly OptionSpec[],
  ) {
    const known = new Set(specs.map((s) => s.flag));
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!known.has(arg)) {
        this.problems.push(`unknown argument '${arg}'`);
        // An unknown flag's value is not a second problem.
        if (arg.startsWith("--") && argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) i++;
        continue;
      }
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        this.problems.push(`${arg} needs a value (${specs.find((s) => s.flag === arg)?.value})`);
        continue;
      }
      if (this.values.has(arg)) this.problems.push(`${arg} is given twice`);
      this.values.set(arg, next);
      i++;
    }
  }

  /** The usage line: every option with what its value is. */
  usage(): string {
    return `usage: ${this.command} ${this.specs.map((s) => `[${s.flag} ${s.value}]`).join(" ")}`;
  }

  /** The raw value of `flag`, if given. */
  text(flag: string): string | undefined {
    return this.values.get(flag);
  }

  /**
   * A whole number `>= min`: the flag's value, else `fallback` (e.g. `HCP_BENCH_RUNS`), else `defaultValue`.
   */
  integer(flag: string, defaultValue: number, min: number, fallback?: string): number {
    const raw = this.values.get(flag) ?? fallback;
    const n = raw === undefined ? defaultValue : Number(raw);
    if (!Number.isInteger(n) || n < min) {
      this.problems.push(`${flag} is a whole number >= ${min}, not '${raw}'`);
    }
    return n;
  }

  /** A number above (`exclusive`) or at least `min`: the flag's value, else `defaultValue`. */
  number(flag: string, defaultValue: number, min: number, bound: "inclusive" | "exclusive"): number {
    const raw = this.values.get(flag);
    const n = raw === undefined ? defaultValue : Number(raw);
    const ok = bound === "inclusive" ? n >= min : n > min;
    if (!Number.isFinite(n) || !ok) {
      this.problems.push(`${flag} is a number ${bound === "inclusive" ? ">=" : ">"} ${min}, not '${raw}'`);
    }
    return n;
  }

  /**
   * A comma-separated list whose items are each in `allowed` or match `pattern`: the flag's value,
   * else `defaultValue`. Empty items are ignored; an empty list is a problem.
   */
  list<T extends string>(
    flag: string,
    allowed: readonly T[],
    defaultValue: readonly T[],
    pattern?: { readonly regex: RegExp; readonly describe: string },
  ): T[] {
    const raw = this.values.get(flag);
    const items = raw === undefined ? [...defaultValue] : raw.split(",").filter((v) => v !== "");
    const bad = items.filter((v) => !(allowed as readonly string[]).includes(v) && !pattern?.regex.test(v));
    if (bad.length > 0) {
      const choices = [...allowed, ...(pattern ? [pattern.describe] : [])].join(", ");
      this.problems.push(`${flag}: unknown ${bad.map((b) => `'${b}'`).join(", ")}; allowed: ${choices}`);
    } else if (items.length === 0) {
      this.problems.push(`${flag} lists nothing; allowed: ${allowed.join(", ")}`);
    }
    return items as T[];
  }

  /** Records a problem the command's own rules find (e.g. a baseline that is not among the variants). */
  require(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  /** Throws one error naming every problem and the usage line, if there is any problem. */
  check(): void {
    if (this.problems.length > 0) {
      throw new Error(`${this.command}: ${this.problems.join("; ")}\n${this.usage()}`);
    }
  }
}
