import { stringify } from "yaml";
import { type Team, TEAMS } from "./rules/model";

/**
 * Alertmanager's configuration, generated: one route per severity and team, receivers reading their
 * keys from files (Kubernetes Secrets synced from Secrets Manager and mounted by the operator under
 * `/etc/alertmanager/secrets/<secret>/<key>`), inhibition of lower severities by a critical alert of
 * the same namespace, and the Watchdog heartbeat: published every minute to a heartbeat SNS topic,
 * whose CloudWatch alarm on missing publications (treat missing data as breaching) is the dead man's
 * switch. No key is ever in the rendered YAML.
 *
 * Fields used and the Alertmanager release that introduced them: `pagerduty_configs.routing_key_file`
 * (0.25), `slack_configs.api_url_file` (0.22), `sns_configs` with SigV4 from the pod's credentials
 * (0.23), matchers (0.22). Debian's amtool 0.25 checks them in
 * the tests; the chart's Alertmanager is newer.
 */

/** Where the receivers' credentials are mounted (`alertmanagerSpec.secrets` mounts each Secret). */
export const SECRET_MOUNT = "/etc/alertmanager/secrets";

/** The Kubernetes Secret holding the notification keys (synced by an ExternalSecret). */
export const NOTIFICATION_SECRET = "alertmanager-notification-keys";

/** Keys of {@link NOTIFICATION_SECRET}: one PagerDuty Events v2 routing key and Slack webhook per team. */
export function notificationKeys(): string[] {
  return TEAMS.flatMap((t) => [`pagerduty-${t}`, `slack-${t}`]);
}

/** What the configuration needs from the stack. */
export interface AlertmanagerInputs {
  /** SNS topic receiving critical alerts (e-mail subscribers) and the Watchdog's absence alarm. */
  readonly alertTopicArn: string;
  /** SNS topic the Watchdog is published to every minute (its alarm fires when publications stop). */
  readonly heartbeatTopicArn: string;
  /** Region of the topic (Alertmanager signs SNS calls with SigV4 for it). */
  readonly region: string;
  /** Environment name, a label on every notification. */
  readonly environment: string;
  /** Where the key files are mounted. @default - {@link SECRET_MOUNT}/{@link NOTIFICATION_SECRET} */
  readonly secretDir?: string;
}

const file = (inputs: AlertmanagerInputs, key: string) =>
  `${inputs.secretDir ?? `${SECRET_MOUNT}/${NOTIFICATION_SECRET}`}/${key}`;

/** Receiver names. */
export const receiverName = {
  page: (t: Team) => `pagerduty-${t}`,
  chat: (t: Team) => `slack-${t}`,
  email: "sns-email",
  heartbeat: "heartbeat",
  blackhole: "blackhole",
} as const;

/** Alertmanager's configuration as an object (the operator's `alertmanager.config` value). */
export function alertmanagerConfig(inputs: AlertmanagerInputs): Record<string, unknown> {
  const sns = {
    topic_arn: inputs.alertTopicArn,
    sigv4: { region: inputs.region },
    subject: `[${inputs.environment}] {{ .CommonLabels.alertname }} ({{ .Status }})`,
    send_resolved: true,
  };
  const receivers: Record<string, unknown>[] = [
    { name: receiverName.blackhole },
    { name: receiverName.email, sns_configs: [sns] },
    {
      name: receiverName.heartbeat,
      sns_configs: [
        { topic_arn: inputs.heartbeatTopicArn, sigv4: { region: inputs.region }, send_resolved: false },
      ],
    },
    ...TEAMS.flatMap((t) => [
      {
        name: receiverName.page(t),
        pagerduty_configs: [
          {
            routing_key_file: file(inputs, `pagerduty-${t}`),
            severity: "critical",
            send_resolved: true,
            details: { environment: inputs.environment, runbook: "{{ .CommonAnnotations.runbook_url }}" },
          },
        ],
        // Every page is also mailed through the SNS topic, so a PagerDuty outage still reaches a human.
        sns_configs: [sns],
      },
      {
        name: receiverName.chat(t),
        slack_configs: [
          {
            api_url_file: file(inputs, `slack-${t}`),
            send_resolved: true,
            title: `[${inputs.environment}] {{ .CommonLabels.alertname }}`,
            text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.runbook_url }}\n{{ end }}",
          },
        ],
      },
    ]),
  ];
  const teamRoutes = (severity: "critical" | "warning", receiver: (t: Team) => string) =>
    TEAMS.map((t) => ({ receiver: receiver(t), matchers: [`severity="${severity}"`, `team="${t}"`] }));
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: receiverName.email,
      group_by: ["alertname", "namespace", "cluster"],
      // A critical data-tier page reaches PagerDuty within group_wait of the alert firing.
      group_wait: "10s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        {
          receiver: receiverName.heartbeat,
          matchers: ['alertname="Watchdog"'],
          group_wait: "0s",
          group_interval: "1m",
          repeat_interval: "1m",
        },
        // Informational alerts feed inhibition and dashboards only.
        { receiver: receiverName.blackhole, matchers: ['severity="none"'] },
        ...teamRoutes("critical", receiverName.page),
        ...teamRoutes("warning", receiverName.chat).map((r) => ({ ...r, group_wait: "1m" })),
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["namespace", "alertname"],
      },
      // A leaderless cluster explains every symptom of the data tier in its namespace.
      {
        source_matchers: ['alertname="PatroniNoLeader"'],
        target_matchers: ['team="data"', 'alertname!="PatroniNoLeader"'],
        equal: ["namespace"],
      },
    ],
    receivers,
  };
}

/** The configuration as YAML (amtool's input; the tests check it). */
export function alertmanagerYaml(inputs: AlertmanagerInputs): string {
  return stringify(alertmanagerConfig(inputs), { lineWidth: 0 });
}
