import {
  type Cidr,
  cidrProblem,
  formatCidr,
  isPrivate,
  maxVpcPrefix,
  MIN_VPC_PREFIX,
  overlaps,
  parseCidr,
} from "../cidr";
import { REGION_NAMES, regionInfo } from "../regions";
import {
  DEFAULT_CLUSTER_VERSION,
  eksStandardSupportVersions,
  eksSupportStatus,
  eksCalendarEnd,
  EKS_CALENDAR_FILE,
  eksVersionSupport,
} from "./eks";
import { configNow } from "./clock";
import { checkDr } from "./dr";
import { checkObservability } from "./observability";
import { type ConfigProblem, type ConfigWarning, show } from "./problems";
import {
  CLOUDWATCH_RETENTION_DAYS,
  cloudWatchRetentionAtLeast,
  isValidCloudWatchRetention,
  MIN_AUDIT_YEARS,
  SEVEN_YEARS_DAYS,
} from "./retention";
import { checkWorkloads } from "./workloads";

/**
 * Cross-field rules of the environment definition. They run on the raw values (guarding every type)
 * so they report even when the structural schema found other problems, and every rule reports the
 * key path, the value, what is allowed and the fix.
 */

/** Display path of a key under the namespace. */
export type PathFn = (...segments: ReadonlyArray<string | number>) => string;

type Raw = Record<string, unknown>;

const VPC_MAX_PREFIX_FOR_EKS = 21;
const LOG_CLASSES_AT_LEAST_SEVEN_YEARS = ["audit", "security"] as const;

function obj(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * Runs every cross-field rule over the namespace's raw values. `now` is the instant time-bound rules
 * (EKS standard support) are judged at.
 */
export function validateEnvironment(
  raw: Raw,
  path: PathFn,
  now: Date = configNow(),
  warn: (warning: ConfigWarning) => void = () => undefined,
): ConfigProblem[] {
  return [
    ...checkRegions(raw, path),
    ...checkRetention(obj(raw["retention"]), path),
    ...checkResidency(raw, path),
    ...checkCluster(obj(raw["cluster"]), path),
    ...checkClusterVersion(obj(raw["cluster"]), path, now, warn),
    ...checkRegionCapacity(raw, path),
    ...checkData(raw, path),
    ...checkEcr(obj(raw["ecr"]), path),
    ...checkDr(raw, path),
    ...checkWorkloads(raw, path),
    ...checkObservability(raw, path),
  ];
}

function checkRegions(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const regions = arr(raw["regions"]).map(obj);
  const seen = new Map<string, number>();
  const vpcs: Array<{ index: number; text: string; cidr: Cidr }> = [];

  regions.forEach((region, i) => {
    if (!region) {
      return;
    }
    const name = str(region["name"]);
    const info = name === undefined ? undefined : regionInfo(name);
    if (name !== undefined && !info) {
      problems.push({
        path: path("regions", i, "name"),
        received: show(name),
        allowed: `an AWS region code: ${REGION_NAMES.join(", ")}`,
        fix: "use the region code (e.g. sa-east-1), not a display name or an Availability Zone",
      });
    }
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) {
        problems.push({
          path: path("regions", i, "name"),
          received: show(name),
          allowed: "each region listed once",
          fix: `remove this entry or merge it into regions[${first}]`,
        });
      } else {
        seen.set(name, i);
      }
    }

    const azCount = num(region["azCount"]);
    if (info && azCount !== undefined && azCount > info.azCount) {
      problems.push({
        path: path("regions", i, "azCount"),
        received: show(azCount),
        allowed: `at most ${info.azCount} (the Availability Zones ${info.name} offers a new account)`,
        fix: `set azCount to ${Math.min(3, info.azCount)} or fewer`,
      });
    }

    const vpcText = str(region["vpcCidr"]);
    const vpc =
      vpcText === undefined ? undefined : checkCidr(problems, path("regions", i, "vpcCidr"), vpcText);
    if (vpc && vpcText !== undefined) {
      const maxPrefix = Math.min(VPC_MAX_PREFIX_FOR_EKS, maxVpcPrefix(azCount ?? 1));
      if (!isPrivate(vpc)) {
        problems.push({
          path: path("regions", i, "vpcCidr"),
          received: show(vpcText),
          allowed: "a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918)",
          fix: "pick a private block, e.g. 10.20.0.0/16",
        });
      } else if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > maxPrefix) {
        problems.push({
          path: path("regions", i, "vpcCidr"),
          received: show(vpcText),
          allowed: `a prefix from /${MIN_VPC_PREFIX} to /${maxPrefix} (EKS pods take VPC addresses)`,
          fix: `use a /${MIN_VPC_PREFIX} such as ${formatCidr({ network: vpc.network, prefix: MIN_VPC_PREFIX })}`,
        });
      }
      vpcs.push({ index: i, text: vpcText, cidr: vpc });
    }

    const serviceText = str(region["serviceCidr"]);
    const service =
      serviceText === undefined
        ? undefined
        : checkCidr(problems, path("regions", i, "serviceCidr"), serviceText);
    if (service && vpc && serviceText !== undefined && overlaps(service, vpc)) {
      problems.push({
        path: path("regions", i, "serviceCidr"),
        received: show(serviceText),
        allowed: `a block that does not overlap this region's vpcCidr ${vpcText}`,
        fix: "use 172.20.0.0/16 (the default) or another block outside the VPC",
      });
    }

    const groups = obj(obj(region["sizes"])?.["nodeGroups"]);
    for (const group of ["system", "database", "workloads"]) {
      const g = obj(groups?.[group]);
      const [min, desired, max] = [num(g?.["minSize"]), num(g?.["desiredSize"]), num(g?.["maxSize"])];
      if (
        min !== undefined &&
        desired !== undefined &&
        max !== undefined &&
        !(min <= desired && desired <= max)
      ) {
        problems.push({
          path: path("regions", i, "sizes", "nodeGroups", group),
          received: show({ minSize: min, desiredSize: desired, maxSize: max }),
          allowed: "minSize <= desiredSize <= maxSize",
          fix: "raise maxSize or lower minSize so desiredSize lies between them",
        });
      }
    }
    const members = num(obj(region["sizes"])?.["databaseMembers"]);
    const dbMin = num(obj(groups?.["database"])?.["minSize"]);
    if (members !== undefined && dbMin !== undefined && dbMin < members) {
      problems.push({
        path: path("regions", i, "sizes", "nodeGroups", "database", "minSize"),
        received: show(dbMin),
        allowed: `at least databaseMembers (${members}): each Patroni member needs its own database node`,
        fix: `set minSize to ${members} or more`,
      });
    }
  });

  const roles = regions.map((r) => str(r?.["role"]));
  const primaries = roles.flatMap((role, i) => (role === "primary" ? [i] : []));
  if (regions.length > 0 && primaries.length !== 1) {
    problems.push({
      path: path("regions"),
      received:
        primaries.length === 0
          ? "no region with role primary"
          : `${primaries.length} primary regions (${primaries.map((i) => `regions[${i}]`).join(", ")})`,
      allowed: "exactly one region with role primary; the others dr",
      fix:
        primaries.length === 0
          ? "set role: primary on the region that holds the writer (sa-east-1 by default)"
          : "keep role: primary on one region and set role: dr on the others",
    });
  }

  const primaryRegion = primaries.length === 1 ? str(regions[primaries[0]]?.["name"]) : undefined;
  const primaryPartition = primaryRegion ? regionInfo(primaryRegion)?.partition : undefined;
  regions.forEach((region, i) => {
    const info = regionInfo(str(region?.["name"]) ?? "");
    if (info && primaryPartition && info.partition !== primaryPartition) {
      problems.push({
        path: path("regions", i, "name"),
        received: show(info.name),
        allowed: `a region in the primary's partition (${primaryPartition}); replication cannot cross partitions`,
        fix: "choose a DR region in the same partition as the primary",
      });
    }
  });

  for (let a = 0; a < vpcs.length; a++) {
    for (let b = a + 1; b < vpcs.length; b++) {
      const [x, y] = [vpcs[a], vpcs[b]];
      if (overlaps(x.cidr, y.cidr)) {
        problems.push({
          path: path("regions", y.index, "vpcCidr"),
          received: show(y.text),
          allowed: `a block that overlaps no other region's VPC; it overlaps regions[${x.index}].vpcCidr ${x.text}, and peered VPCs cannot route overlapping ranges`,
          fix: `move one of them, e.g. ${suggestFreeBlock(
            vpcs.map((v) => v.cidr),
            y.cidr.prefix,
          )}`,
        });
      }
    }
  }
  return problems;
}

function checkCidr(problems: ConfigProblem[], p: string, text: string): Cidr | undefined {
  const reason = cidrProblem(text);
  if (reason) {
    problems.push({
      path: p,
      received: show(text),
      allowed: "a canonical IPv4 CIDR block a.b.c.d/n",
      fix: `correct the value; it ${reason}`,
    });
    return undefined;
  }
  return parseCidr(text);
}

/** First 10.x.0.0 block of the given prefix that overlaps none of `taken`. */
function suggestFreeBlock(taken: readonly Cidr[], prefix: number): string {
  const p = Math.max(prefix, 16);
  for (let second = 0; second < 256; second++) {
    const candidate = { network: ((10 << 24) | (second << 16)) >>> 0, prefix: p };
    if (!taken.some((t) => overlaps(t, candidate))) {
      return formatCidr(candidate);
    }
  }
  return "a free block in 10.0.0.0/8";
}

function checkRetention(retention: Raw | undefined, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!retention) {
    return problems;
  }
  const auditYears = num(retention["auditYears"]);
  if (auditYears !== undefined && auditYears < MIN_AUDIT_YEARS) {
    problems.push({
      path: path("retention", "auditYears"),
      received: show(auditYears),
      allowed: `${MIN_AUDIT_YEARS} or more years`,
      fix: `set auditYears to ${MIN_AUDIT_YEARS}`,
    });
  }
  const logs = obj(retention["logs"]);
  for (const [cls, value] of Object.entries(logs ?? {})) {
    const days = num(value);
    if (days === undefined) {
      continue;
    }
    const mustBeSevenYears = (LOG_CLASSES_AT_LEAST_SEVEN_YEARS as readonly string[]).includes(cls);
    if (!isValidCloudWatchRetention(days)) {
      const nearest = cloudWatchRetentionAtLeast(days);
      problems.push({
        path: path("retention", "logs", cls),
        received: show(days),
        allowed: `a CloudWatch retention value: ${CLOUDWATCH_RETENTION_DAYS.join(", ")}${mustBeSevenYears ? ` (and at least ${SEVEN_YEARS_DAYS} for ${cls} logs)` : ""}`,
        fix:
          nearest === undefined
            ? `use ${CLOUDWATCH_RETENTION_DAYS[CLOUDWATCH_RETENTION_DAYS.length - 1]}`
            : `use ${mustBeSevenYears ? Math.max(nearest, SEVEN_YEARS_DAYS) : nearest}${days === 2555 ? " (7 years is 2557 days, not 2555)" : ""}`,
      });
    } else if (mustBeSevenYears && days < SEVEN_YEARS_DAYS) {
      problems.push({
        path: path("retention", "logs", cls),
        received: show(days),
        allowed: `at least ${SEVEN_YEARS_DAYS} days (7 years) for ${cls} logs`,
        fix: `set it to ${SEVEN_YEARS_DAYS}`,
      });
    }
  }
  return problems;
}

function checkResidency(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const residency = obj(raw["residency"]);
  if (!residency) {
    return problems;
  }
  const home = str(residency["homeCountry"]);
  const allowed = arr(residency["allowedRegions"]).map(str);
  allowed.forEach((name, i) => {
    if (name !== undefined && !regionInfo(name)) {
      problems.push({
        path: path("residency", "allowedRegions", i),
        received: show(name),
        allowed: `an AWS region code: ${REGION_NAMES.join(", ")}`,
        fix: "use a region code such as sa-east-1",
      });
    }
  });
  const transfers = arr(residency["internationalTransfers"]).map(obj);
  const covered = new Set(transfers.map((t) => str(t?.["destinationCountry"])));

  arr(raw["regions"]).forEach((r, i) => {
    const region = obj(r);
    const name = str(region?.["name"]);
    const info = name === undefined ? undefined : regionInfo(name);
    if (!info || name === undefined) {
      return;
    }
    if (!allowed.includes(name)) {
      problems.push({
        path: path("regions", i, "name"),
        received: show(name),
        allowed: `a region listed in residency.allowedRegions (${allowed.filter((a) => a !== undefined).join(", ")})`,
        fix: `add ${name} to residency.allowedRegions after your DPO approves it, or choose an allowed region`,
      });
    }
    if (home !== undefined && info.country !== home && !covered.has(info.country)) {
      const role = str(region?.["role"]) ?? "a";
      problems.push({
        path: path("residency", "internationalTransfers"),
        received: `no transfer basis for ${info.country} (regions[${i}] ${name} is a ${role} region in ${info.country})`,
        allowed: `an LGPD Art. 33 basis for every country outside ${home} that receives copies of patient data`,
        fix: `add { destinationCountry: ${info.country}, basis: standard-contractual-clauses, reference: <contract or DPIA id> } approved by your DPO, or choose a region in ${home}`,
      });
      covered.add(info.country);
    }
  });
  return problems;
}

function checkCluster(cluster: Raw | undefined, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!cluster) {
    return problems;
  }
  const mode = str(cluster["endpointAccess"]);
  const cidrs = arr(cluster["publicAccessCidrs"]);
  if (mode === "privateAndPublic" && cidrs.length === 0) {
    problems.push({
      path: path("cluster", "publicAccessCidrs"),
      received: show(cidrs),
      allowed: "one or more CIDRs when endpointAccess is privateAndPublic",
      fix: "list the office/VPN egress CIDRs, or set endpointAccess: private",
    });
  }
  if (mode === "private" && cidrs.length > 0) {
    problems.push({
      path: path("cluster", "publicAccessCidrs"),
      received: show(cidrs),
      allowed: "an empty list when endpointAccess is private (there is no public endpoint to restrict)",
      fix: "remove publicAccessCidrs or set endpointAccess: privateAndPublic",
    });
  }
  cidrs.forEach((c, i) => {
    const text = str(c);
    if (text === undefined) {
      return;
    }
    const cidr = checkCidr(problems, path("cluster", "publicAccessCidrs", i), text);
    if (cidr && cidr.prefix < 8) {
      problems.push({
        path: path("cluster", "publicAccessCidrs", i),
        received: show(text),
        allowed: "a specific egress range (prefix /8 or longer), never the whole internet",
        fix: "list your VPN or office egress range instead",
      });
    }
  });
  return problems;
}

/**
 * The cluster version must be in EKS standard support (the platform sets `upgradePolicy.supportType:
 * STANDARD`, so EKS would upgrade an out-of-support cluster on its own schedule), and kube-proxy must
 * be a build for that minor version (EKS only offers matching kube-proxy builds as a managed add-on).
 */
function checkClusterVersion(
  cluster: Raw | undefined,
  path: PathFn,
  now: Date,
  warn: (warning: ConfigWarning) => void,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const version = str(cluster?.["version"]) ?? (cluster ? DEFAULT_CLUSTER_VERSION : undefined);
  if (version === undefined || !/^1\.\d{2}$/.test(version)) {
    return problems;
  }
  const supported = eksStandardSupportVersions(now);
  const today = now.toISOString().slice(0, 10);
  const newest = supported[supported.length - 1];
  const status = eksSupportStatus(version, now);
  const calendar = `EKS_VERSIONS in ${EKS_CALENDAR_FILE}`;
  const calendarEnd = eksCalendarEnd();
  // Past the last day the calendar covers, an unknown version is most likely one EKS released after
  // the table was written: say the table is stale instead of refusing a version it cannot judge.
  if (status === "unknown" && today >= calendarEnd) {
    warn({
      path: path("cluster", "version"),
      message: `${version} is not in the EKS version calendar, which covers standard support only until ${calendarEnd} (today is ${today})`,
      fix: `add the versions EKS released since to ${calendar} (dates from the Amazon EKS Kubernetes version lifecycle page)`,
    });
  } else if (status !== "standard") {
    const row = eksVersionSupport(version);
    const why =
      status === "unknown"
        ? "is not in the EKS version table"
        : status === "unreleased"
          ? `is not released on EKS before ${row?.released}`
          : `left EKS standard support on ${row?.standardSupportEnds}`;
    problems.push({
      path: path("cluster", "version"),
      received: `${show(version)} (${why})`,
      allowed:
        supported.length > 0
          ? `a version in EKS standard support on ${today}: ${supported.join(", ")}`
          : `a version in EKS standard support on ${today}; the calendar (${calendar}) knows none that day, it covers only until ${calendarEnd}`,
      fix:
        status === "unknown"
          ? `use ${newest ?? "a supported version"}; if EKS released ${version} after this table was written, add it with its calendar dates to ${calendar}`
          : supported.length > 0
            ? `upgrade to ${newest} one minor version at a time, with cluster.addons versions built for it`
            : `add the versions EKS released since to ${calendar}, then upgrade one minor version at a time`,
    });
  }
  const kubeProxy = str(obj(cluster?.["addons"])?.["kubeProxy"]);
  const kubeProxyMinor = kubeProxy === undefined ? undefined : /^v(\d+\.\d+)\./.exec(kubeProxy)?.[1];
  if (kubeProxy !== undefined && kubeProxyMinor !== undefined && kubeProxyMinor !== version) {
    problems.push({
      path: path("cluster", "addons", "kubeProxy"),
      received: show(kubeProxy),
      allowed: `a kube-proxy build for Kubernetes ${version} (v${version}.x-eksbuild.N)`,
      fix: `pick one from \`aws eks describe-addon-versions --addon-name kube-proxy --kubernetes-version ${version}\``,
    });
  }
  return problems;
}

/** Minimum system nodes of a production region: cluster add-ons keep a replica through a node loss. */
const MIN_PRODUCTION_SYSTEM_NODES = 2;

/**
 * Production capacity rules: one NAT gateway per zone (a zone outage must not cut the others'
 * egress) and at least two system nodes.
 */
function checkRegionCapacity(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (str(raw["tier"]) !== "production") {
    return problems;
  }
  arr(raw["regions"]).forEach((r, i) => {
    const region = obj(r);
    const nat = str(region?.["natGateways"]);
    if (nat === "single") {
      problems.push({
        path: path("regions", i, "natGateways"),
        received: show(nat),
        allowed:
          'perAz in a production environment (with "single", losing that zone cuts every zone\'s egress)',
        fix: "set natGateways: perAz",
      });
    }
    const systemMin = num(obj(obj(obj(region?.["sizes"])?.["nodeGroups"])?.["system"])?.["minSize"]);
    if (systemMin !== undefined && systemMin < MIN_PRODUCTION_SYSTEM_NODES) {
      problems.push({
        path: path("regions", i, "sizes", "nodeGroups", "system", "minSize"),
        received: show(systemMin),
        allowed: `at least ${MIN_PRODUCTION_SYSTEM_NODES} in a production environment (CoreDNS and the controllers must survive a node loss)`,
        fix: `set minSize to ${MIN_PRODUCTION_SYSTEM_NODES}`,
      });
    }
  });
  return problems;
}

function checkData(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const data = obj(raw["data"]);
  const patroni = obj(data?.["patroni"]);
  const ttl = num(patroni?.["ttlSeconds"]);
  const loop = num(patroni?.["loopWaitSeconds"]);
  const retry = num(patroni?.["retryTimeoutSeconds"]);
  if (ttl !== undefined && loop !== undefined && retry !== undefined && loop + 2 * retry > ttl) {
    problems.push({
      path: path("data", "patroni"),
      received: show({ ttlSeconds: ttl, loopWaitSeconds: loop, retryTimeoutSeconds: retry }),
      allowed:
        "loopWaitSeconds + 2 * retryTimeoutSeconds <= ttlSeconds (Patroni demotes the leader otherwise)",
      fix: `raise ttlSeconds to ${loop + 2 * retry} or lower loopWaitSeconds/retryTimeoutSeconds`,
    });
  }
  const image = obj(data?.["image"]);
  const repo = str(image?.["repository"]);
  const tag = str(image?.["tag"]);
  if (repo !== undefined && !/(^|\/)timescaledb-ha$/.test(repo)) {
    problems.push({
      path: path("data", "image", "repository"),
      received: show(repo),
      allowed: "timescale/timescaledb-ha or a mirror whose name ends in /timescaledb-ha (it bundles Patroni)",
      fix: "set repository: timescale/timescaledb-ha",
    });
  }
  if (tag !== undefined && (!/^pg16(\.|-|$)/.test(tag) || /oss/i.test(tag))) {
    problems.push({
      path: path("data", "image", "tag"),
      received: show(tag),
      allowed:
        "a PostgreSQL 16 tag of the community (TSL) build, e.g. pg16.6-ts2.17.2-all; -oss tags lack retention, compression and continuous aggregates",
      fix: "pick a pg16 tag without -oss",
    });
  }
  const mode = str(patroni?.["synchronousMode"]);
  arr(raw["regions"]).forEach((r, i) => {
    const region = obj(r);
    const members = num(obj(region?.["sizes"])?.["databaseMembers"]);
    if (str(region?.["role"]) !== "primary" || members === undefined) {
      return;
    }
    if (mode === "strict" && members < 3) {
      problems.push({
        path: path("regions", i, "sizes", "databaseMembers"),
        received: show(members),
        allowed: "3 or more with synchronousMode strict (with 2, losing one member stops every write)",
        fix: "set databaseMembers to 3, or synchronousMode to on",
      });
    } else if (mode === "on" && members < 2) {
      problems.push({
        path: path("regions", i, "sizes", "databaseMembers"),
        received: show(members),
        allowed: "2 or more with synchronous replication",
        fix: "set databaseMembers to 3",
      });
    }
  });
  return problems;
}

function checkEcr(ecr: Raw | undefined, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  arr(ecr?.["repositories"]).forEach((r, i) => {
    const name = str(r);
    if (name === undefined) {
      return;
    }
    if (seen.has(name)) {
      problems.push({
        path: path("ecr", "repositories", i),
        received: show(name),
        allowed: "each repository listed once",
        fix: "remove the duplicate",
      });
    }
    seen.add(name);
  });
  return problems;
}
