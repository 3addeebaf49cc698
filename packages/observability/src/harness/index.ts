/**
 * Test support of `@hcp/observability`, exported as `@hcp/observability/harness`: the alerting path
 * on one machine from the rendered artifacts (Patroni cluster, postgres_exporter, Prometheus with the
 * product's rule file, Alertmanager with the rendered routing, a webhook in place of the notifiers),
 * and the leader-kill scenario the integration test and `pnpm bench:alerting` measure with.
 */
export * from "./localize";
export * from "./processes";
export * from "./rig";
export * from "./scenario";
