import { sleep, waitFor } from "@hcp/postgres/harness";
import { type AlertRule, alertsOf } from "../rules";
import { type Notification, parseTimestamp, type PrometheusAlert } from "./processes";
import type { AlertingRig } from "./rig";

/**
 * Leader kill → alert → notification, measured on an {@link AlertingRig}. The measured path is the
 * production one: Patroni's failover, the scrape of the new leader's `/metrics`, the rule
 * evaluation, the alert's `for`, and Alertmanager's routing and `group_wait` to the receiver.
 */

/** The alert a leader loss must raise: a promotion changes the timeline on the new leader. */
export const LEADER_ALERT = "PatroniLeaderChanged";

/**
 * What is killed: `failover` = the leader (a surviving synchronous standby takes over);
 * `leaderless` = the leader and its synchronous standby at the same instant, so that in synchronous
 * mode no member may take over (docs/runbooks/data-tier.md: a cluster left without a leader).
 */
export type AlertScenario = "failover" | "leaderless";

/** The alert each scenario must raise (and notify). */
export const SCENARIO_ALERT: Readonly<Record<AlertScenario, string>> = {
  failover: LEADER_ALERT,
  leaderless: "PatroniNoLeader",
};

/**
 * Alerts that are active on this machine for reasons unrelated to the failover, each because a
 * component the rule watches does not exist here. They are excluded by name (and printed), never
 * by weakening the rule: in production each of them would be a real incident.
 */
export const NOT_LOCAL: Readonly<Record<string, string>> = {
  Watchdog: "always firing by design (the dead man's switch heartbeat)",
  AppDown: 'the application is not deployed on this machine: absent(up{job="healthcare-app"}) is true',
  WalArchiveFailing:
    "the rendered archive_command pushes WAL to the S3 repositories of pgBackRest, which do not exist here",
  WalArchiveTooOld: "same cause as WalArchiveFailing: no WAL is ever archived on this machine",
};

/** Milliseconds of a Prometheus duration (`0s`, `25s`, `1m`, `2h`, `1h30m`). */
export function durationMs(text: string): number {
  const re = /(\d+)(ms|s|m|h|d)/g;
  const unit: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== text.length || text.length === 0) throw new Error(`not a Prometheus duration: ${text}`);
  return total;
}

/** Key of one alert instance (name + labels). */
function alertKey(a: PrometheusAlert): string {
  return JSON.stringify(Object.entries(a.labels).sort());
}

/** What was seen of one alert instance during the observation. */
export interface ObservedAlert {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly firstPending?: number;
  readonly firstFiring?: number;
}

/** Epoch-ms milestones of one leader kill (undefined = not reached before the timeout). */
export interface AlertTimeline {
  readonly kill: number;
  /** `failover`: a surviving member answers as leader on its REST API (polled every 250 ms). */
  readonly promoted?: number;
  /**
   * The scrape that shows the change: `failover`, the first sample of the new leader's new timeline;
   * `leaderless`, the first failed scrape of the old leader's `/metrics` (its series go stale).
   */
  readonly scraped?: number;
  /** The alert's `activeAt`: the evaluation that first found the condition true. */
  readonly active?: number;
  /** The evaluation at which it fired: `activeAt + for`, rounded up to the group's interval. */
  readonly firing?: number;
  /** The webhook received the notification. */
  readonly notified?: number;
}

/** The parts of kill → notification, in milliseconds. */
export interface AlertSegments {
  readonly failoverMs: number;
  readonly scrapeMs: number;
  readonly evaluationMs: number;
  readonly forMs: number;
  readonly notifyMs: number;
  readonly totalMs: number;
}

export interface LeaderKillResult {
  readonly scenario: AlertScenario;
  /** The alert the scenario must raise ({@link SCENARIO_ALERT}). */
  readonly alert: string;
  /** Members killed (the leader first). */
  readonly killed: readonly string[];
  readonly oldLeader: string;
  readonly newLeader?: string;
  readonly timeline: AlertTimeline;
  /** Undefined when a milestone was not reached. */
  readonly segments?: AlertSegments;
  readonly rule: AlertRule;
  /** Alerts active (pending or firing) just before the kill. */
  readonly baseline: readonly PrometheusAlert[];
  /** The first notification of the scenario's alert. */
  readonly notification?: Notification;
  /** Every notification received after the kill. */
  readonly notifications: readonly Notification[];
  /** Every alert instance seen after the kill. */
  readonly observed: readonly ObservedAlert[];
  /** Alert names that fired after the kill although neither expected nor in {@link NOT_LOCAL}. */
  readonly unexpectedFiring: readonly string[];
  /** Alert names notified after the kill although neither expected nor in {@link NOT_LOCAL}. */
  readonly unexpectedNotified: readonly string[];
  /** Alert names that went pending but never fired (e.g. PatroniNoLeader during the failover). */
  readonly pendingOnly: readonly string[];
}

export interface LeaderKillOptions {
  /** @default "failover" */
  readonly scenario?: AlertScenario;
  /** How long to keep watching after the notification, for late spurious alerts. @default 30000 */
  readonly quietMs?: number;
  /** Give up waiting for the notification after this long. @default 240000 */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Waits until the Watchdog has reached the heartbeat receiver: the whole path works before the kill. */
export function waitHeartbeat(rig: AlertingRig, timeoutMs = 120_000): Promise<Notification> {
  return waitFor(
    "the Watchdog's notification at the heartbeat receiver",
    () =>
      rig.webhook.notifications.find(
        (n) => n.receiver === "heartbeat" && n.commonLabels.alertname === "Watchdog",
      ),
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * Kills the leader (and in `leaderless` its synchronous standby) as a node loss: its Patroni, every
 * postgres process and its postgres_exporter sidecar, SIGKILL by exact PID. Then watches
 * Prometheus' alerts and the webhook until the scenario's alert was notified and `quietMs` more
 * passed.
 */
export async function leaderKillAlert(
  rig: AlertingRig,
  options: LeaderKillOptions = {},
): Promise<LeaderKillResult> {
  const scenario = options.scenario ?? "failover";
  const alert = SCENARIO_ALERT[scenario];
  const quietMs = options.quietMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 240_000;
  const rule = alertsOf(rig.groups).find((r) => r.alert === alert);
  if (!rule) throw new Error(`the rule library has no ${alert}`);
  const oldLeader = (await rig.rc.cluster.leader()) ?? rig.leader;
  const victims = [oldLeader];
  if (scenario === "leaderless") {
    const sync = (await rig.rc.cluster.clusterView())?.find((m) => m.role === "sync_standby")?.name;
    if (!sync) throw new Error("leaderless scenario: no synchronous standby is recorded in the DCS");
    victims.push(sync);
  }
  const baseline = await rig.prometheus.alerts();
  const timelineBefore = await rig.prometheus.vector(`patroni_postgres_timeline{pod="${oldLeader}"}`);
  const tlBefore = timelineBefore[0]?.value ?? NaN;

  const kill = Date.now();
  for (const member of victims) {
    const killed = rig.rc.cluster.killNode(member);
    const exporter = rig.exporters.get(member);
    const exporterPids = exporter ? rig.sandbox.killTree(exporter.identity) : [];
    options.log?.(
      `      killed ${member}: Patroni + postgres PIDs ${killed.pids.join(", ")}, exporter ${exporterPids.join(", ")}`,
    );
  }

  const seen = new Map<string, ObservedAlert>();
  let promoted: number | undefined;
  let newLeader: string | undefined;
  let notification: Notification | undefined;
  const deadline = kill + timeoutMs;
  while (Date.now() < deadline) {
    if (scenario === "failover" && promoted === undefined) {
      const leader = await rig.rc.cluster.leader(victims);
      if (leader) {
        promoted = Date.now();
        newLeader = leader;
        options.log?.(`      ${leader} leads ${((promoted - kill) / 1000).toFixed(1)} s after the kill`);
      }
    }
    try {
      const now = Date.now();
      for (const a of await rig.prometheus.alerts()) {
        const key = alertKey(a);
        const prev = seen.get(key);
        const firstPending = prev?.firstPending ?? (a.state === "pending" ? now : undefined);
        const firstFiring = prev?.firstFiring ?? (a.state === "firing" ? now : undefined);
        seen.set(key, { name: a.labels.alertname ?? "", labels: a.labels, firstPending, firstFiring });
      }
    } catch {
      // Prometheus busy: the next poll catches up.
    }
    notification ??= rig.webhook.notifications.find(
      (n) => n.t >= kill && n.status === "firing" && n.commonLabels.alertname === alert,
    );
    if (notification && Date.now() >= notification.t + quietMs) break;
    await sleep(250);
  }

  let scraped: number | undefined;
  let active: number | undefined;
  if (scenario === "failover" && newLeader) {
    const series = await rig.prometheus.samples(`patroni_postgres_timeline{pod="${newLeader}"}[30m]`);
    const first = series[0]?.values.find(([t, v]) => t * 1000 >= kill && Number(v) > tlBefore);
    scraped = first ? Math.round(first[0] * 1000) : undefined;
  }
  if (scenario === "leaderless") {
    const series = await rig.prometheus.samples(`up{pod="${oldLeader}",endpoint="patroni"}[30m]`);
    const first = series[0]?.values.find(([t, v]) => t * 1000 >= kill && Number(v) === 0);
    scraped = first ? Math.round(first[0] * 1000) : undefined;
  }
  const firingAlert = (await rig.prometheus.alerts()).find((a) => a.labels.alertname === alert);
  if (firingAlert) active = parseTimestamp(firingAlert.activeAt);
  // It fires at the first evaluation of its group at least `for` after activeAt.
  const group = rig.groups.find((g) => g.rules.includes(rule));
  const intervalMs = durationMs(group?.interval ?? `${rig.settings.evaluationIntervalSeconds}s`);
  const forMs = durationMs(rule.for);
  const firing = active === undefined ? undefined : active + Math.ceil(forMs / intervalMs) * intervalMs;
  const notified = notification?.t;
  const timeline: AlertTimeline = { kill, promoted, scraped, active, firing, notified };
  const changed = scenario === "failover" ? promoted : kill;
  const segments =
    changed !== undefined &&
    scraped !== undefined &&
    active !== undefined &&
    firing !== undefined &&
    notified !== undefined
      ? {
          failoverMs: changed - kill,
          scrapeMs: scraped - changed,
          evaluationMs: active - scraped,
          forMs: firing - active,
          notifyMs: notified - firing,
          totalMs: notified - kill,
        }
      : undefined;

  const allowed = new Set([alert, ...Object.keys(NOT_LOCAL)]);
  const observed = [...seen.values()];
  const unexpectedFiring = [
    ...new Set(
      observed.filter((a) => a.firstFiring !== undefined && !allowed.has(a.name)).map((a) => a.name),
    ),
  ].sort();
  const pendingOnly = [
    ...new Set(
      observed
        .filter(
          (a) => a.firstFiring === undefined && !observed.some((b) => b.name === a.name && b.firstFiring),
        )
        .map((a) => a.name),
    ),
  ].sort();
  const notifications = rig.webhook.notifications.filter((n) => n.t >= kill);
  const unexpectedNotified = [
    ...new Set(
      notifications
        .flatMap((n) => n.alerts.map((a) => a.labels.alertname ?? ""))
        .filter((name) => !allowed.has(name)),
    ),
  ].sort();
  return {
    scenario,
    alert,
    killed: victims,
    oldLeader,
    newLeader,
    timeline,
    segments,
    rule,
    baseline,
    notification,
    notifications,
    observed,
    unexpectedFiring,
    unexpectedNotified,
    pendingOnly,
  };
}

/** One line per milestone, relative to the kill. */
export function formatTimeline(r: LeaderKillResult): string {
  const t = r.timeline;
  const rel = (v?: number) => (v === undefined ? "not reached" : `+${((v - t.kill) / 1000).toFixed(1)} s`);
  const change =
    r.scenario === "failover"
      ? `${r.newLeader ?? "?"} leads ${rel(t.promoted)}, new timeline scraped ${rel(t.scraped)}`
      : `no member may take over; failed scrape of ${r.oldLeader} ${rel(t.scraped)}`;
  return (
    `      ${r.scenario}: kill ${r.killed.join(" + ")} → ${change}, ${r.alert} active ${rel(t.active)}, ` +
    `firing ${rel(t.firing)} (for ${r.rule.for}), notified ${rel(t.notified)}` +
    (r.notification ? ` at ${r.notification.path}` : "")
  );
}
