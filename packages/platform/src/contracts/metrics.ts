import { z } from "zod";
import type { SchemaMatches } from "../typecheck";
import { text } from "./fields";

/**
 * What a producing layer exports about each of its metrics endpoints, so that the observability
 * layer (the one owner of monitoring objects) creates the ServiceMonitor / PodMonitor that scrapes
 * it. The producer knows its pods, ports and credentials; observability knows Prometheus.
 */

/** A key of a Kubernetes Secret in the endpoint's namespace. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** One scrape target set of a producer. */
export interface MetricsEndpoint {
  /** Unique, lower-case name (the monitor's name and the `job` label), e.g. `postgres-exporter`. */
  readonly name: string;
  /** `service`: a ServiceMonitor selecting a Service by `selector`; `pod`: a PodMonitor selecting pods. */
  readonly kind: "service" | "pod";
  /** Namespace of the Service / pods (the monitor is created there, next to the Secrets it uses). */
  readonly namespace: string;
  /** Labels of the Service (kind `service`) or of the pods (kind `pod`). */
  readonly selector: Readonly<Record<string, string>>;
  /** Name of the container (pod) or Service port serving the metrics. */
  readonly port: string;
  /** HTTP path, e.g. `/metrics`. */
  readonly path: string;
  readonly scheme: "http" | "https";
  /**
   * How to verify the endpoint's certificate (scheme `https`): the CA in a Secret of the namespace and
   * the name on the certificate. `null` for plain HTTP inside the pod network.
   */
  readonly tls: { readonly ca: SecretKeyRef; readonly serverName: string } | null;
  /** Basic-auth credentials Prometheus sends; `null` when the endpoint needs none. */
  readonly basicAuth: { readonly username: SecretKeyRef; readonly password: SecretKeyRef } | null;
  /**
   * What serves the metrics, with its version family where metric names differ between versions
   * (e.g. `patroni-4`, `postgres_exporter-0.17`): the rule library checks it uses only metrics that
   * this exporter family provides.
   */
  readonly exporter: string;
}

/** Schema of {@link MetricsEndpoint}. */
export const metricsEndpointSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "expected a lower-case DNS label"),
  kind: z.enum(["service", "pod"]),
  namespace: text(),
  selector: z.record(z.string(), z.string()).refine((s) => Object.keys(s).length > 0, {
    message: "a selector needs at least one label (an empty one selects everything)",
  }),
  port: text(),
  path: z.string().regex(/^\//, "expected an absolute path"),
  scheme: z.enum(["http", "https"]),
  tls: z.object({ ca: z.object({ name: text(), key: text() }), serverName: text() }).nullable(),
  basicAuth: z
    .object({
      username: z.object({ name: text(), key: text() }),
      password: z.object({ name: text(), key: text() }),
    })
    .nullable(),
  exporter: text(),
});
const _matches: SchemaMatches<typeof metricsEndpointSchema, MetricsEndpoint> = true;
void _matches;

/** Schema of a producer's `metrics` field: names unique within the list. */
export const metricsEndpointsSchema = z
  .array(metricsEndpointSchema)
  .refine((list) => new Set(list.map((m) => m.name)).size === list.length, {
    message: "metrics endpoint names must be unique",
  });
