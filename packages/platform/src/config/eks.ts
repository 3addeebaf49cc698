/**
 * The Amazon EKS Kubernetes version calendar: a minor version is in standard support for 14 months
 * after EKS releases it, then in extended support (at extra cost per cluster hour) for 12 more.
 * Source: "Understand the Kubernetes version lifecycle on EKS" (Amazon EKS User Guide). Add a row
 * when EKS releases a version; the config check refuses versions this table does not know.
 */

/** Support window of one EKS Kubernetes minor version (dates are UTC, `YYYY-MM-DD`). */
export interface EksVersionSupport {
  /** Kubernetes minor version, e.g. `1.34`. */
  readonly version: string;
  /** Day EKS made the version available. */
  readonly released: string;
  /** First day the version is no longer in standard support. */
  readonly standardSupportEnds: string;
  /** First day the version is no longer in extended support (EKS then upgrades it). */
  readonly extendedSupportEnds: string;
}

/** The cluster version an environment gets when its config does not set `cluster.version`. */
export const DEFAULT_CLUSTER_VERSION = "1.35";

/** Where the calendar lives, for messages that ask to update it. */
export const EKS_CALENDAR_FILE = "packages/platform/src/config/eks.ts";

/** Known EKS versions, oldest first. */
export const EKS_VERSIONS: readonly EksVersionSupport[] = [
  {
    version: "1.29",
    released: "2024-01-23",
    standardSupportEnds: "2025-03-23",
    extendedSupportEnds: "2026-03-23",
  },
  {
    version: "1.30",
    released: "2024-05-23",
    standardSupportEnds: "2025-07-23",
    extendedSupportEnds: "2026-07-23",
  },
  {
    version: "1.31",
    released: "2024-09-26",
    standardSupportEnds: "2025-11-26",
    extendedSupportEnds: "2026-11-26",
  },
  {
    version: "1.32",
    released: "2025-01-23",
    standardSupportEnds: "2026-03-23",
    extendedSupportEnds: "2027-03-23",
  },
  {
    version: "1.33",
    released: "2025-05-29",
    standardSupportEnds: "2026-07-29",
    extendedSupportEnds: "2027-07-29",
  },
  {
    version: "1.34",
    released: "2025-10-02",
    standardSupportEnds: "2026-12-02",
    extendedSupportEnds: "2027-12-02",
  },
  {
    version: "1.35",
    released: "2026-01-27",
    standardSupportEnds: "2027-03-27",
    extendedSupportEnds: "2028-03-27",
  },
];

/** Where a version stands on a given day. */
export type EksSupportStatus = "unknown" | "unreleased" | "standard" | "extended" | "unsupported";

function day(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** The calendar row of a version, if the table knows it. */
export function eksVersionSupport(version: string): EksVersionSupport | undefined {
  return EKS_VERSIONS.find((v) => v.version === version);
}

/** The support status of `version` at instant `now`. */
export function eksSupportStatus(version: string, now: Date): EksSupportStatus {
  const row = eksVersionSupport(version);
  if (!row) {
    return "unknown";
  }
  const t = now.getTime();
  if (t < day(row.released)) {
    return "unreleased";
  }
  if (t < day(row.standardSupportEnds)) {
    return "standard";
  }
  return t < day(row.extendedSupportEnds) ? "extended" : "unsupported";
}

/** Versions in standard support at `now`, oldest first. */
export function eksStandardSupportVersions(now: Date): string[] {
  return EKS_VERSIONS.filter((v) => eksSupportStatus(v.version, now) === "standard").map((v) => v.version);
}

/**
 * The last day the calendar can judge: the end of standard support of its newest version. After it,
 * the table is certainly missing versions EKS has released since.
 */
export function eksCalendarEnd(): string {
  return EKS_VERSIONS.map((v) => v.standardSupportEnds).reduce((a, b) => (a > b ? a : b));
}
