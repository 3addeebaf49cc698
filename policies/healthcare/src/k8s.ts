import type * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import type { EvidenceProperties } from "./policy";
import type { ArgsOf, TypeToken } from "./types";

/** Kubernetes object shapes as policies see them (inputs, no Outputs). */
export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = Unwrap<k8s.types.input.core.v1.Container>;
export type ObjectMeta = Unwrap<k8s.types.input.meta.v1.ObjectMeta>;
export type LabelSelector = Unwrap<k8s.types.input.meta.v1.LabelSelector>;

/** Kubernetes types that run pods. */
export const WORKLOAD_TYPES = [
  "kubernetes:core/v1:Pod",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:apps/v1:ReplicaSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:batch/v1:CronJob",
] as const satisfies readonly TypeToken[];
export type WorkloadType = (typeof WORKLOAD_TYPES)[number];

export function isWorkloadType(type: string): type is WorkloadType {
  return (WORKLOAD_TYPES as readonly string[]).includes(type);
}

/** The pod template of a workload: its pod spec and the pod's metadata (labels). */
export interface PodTemplate {
  readonly spec: PodSpec | undefined;
  readonly metadata: ObjectMeta | undefined;
  /** Property path of the pod spec, for messages. */
  readonly path: string;
}

/** The pod template of a workload object. */
export function podTemplate<T extends WorkloadType>(type: T, props: ArgsOf<T>): PodTemplate {
  switch (type) {
    case "kubernetes:core/v1:Pod": {
      const pod = props as ArgsOf<"kubernetes:core/v1:Pod">;
      return { spec: pod.spec, metadata: pod.metadata, path: "spec" };
    }
    case "kubernetes:batch/v1:CronJob": {
      const cron = props as ArgsOf<"kubernetes:batch/v1:CronJob">;
      const template = cron.spec?.jobTemplate?.spec?.template;
      return {
        spec: template?.spec,
        metadata: template?.metadata,
        path: "spec.jobTemplate.spec.template.spec",
      };
    }
    default: {
      const workload = props as ArgsOf<"kubernetes:apps/v1:Deployment">;
      const template = workload.spec?.template;
      return { spec: template?.spec, metadata: template?.metadata, path: "spec.template.spec" };
    }
  }
}

/** A container of a pod spec with its property path. */
export interface PlacedContainer {
  readonly container: Container;
  /** e.g. `spec.template.spec.containers[0]` */
  readonly path: string;
  /** Container name for messages (names are not secret). */
  readonly label: string;
}

/** Every container, init container and ephemeral container of a pod spec. */
export function containersOf(template: PodTemplate): PlacedContainer[] {
  const spec = template.spec;
  if (!spec) {
    return [];
  }
  const out: PlacedContainer[] = [];
  const lists: Array<[string, readonly Container[] | undefined]> = [
    ["containers", spec.containers],
    ["initContainers", spec.initContainers],
    ["ephemeralContainers", spec.ephemeralContainers],
  ];
  for (const [field, list] of lists) {
    (list ?? []).forEach((container, i) => {
      const name = typeof container.name === "string" ? container.name : `#${i}`;
      out.push({ container, path: `${template.path}.${field}[${i}]`, label: `${field} '${name}'` });
    });
  }
  return out;
}

/** Namespace of a namespaced object (`default` if unset). */
export function namespaceOf(metadata: ObjectMeta | undefined): string {
  const ns = metadata?.namespace;
  return typeof ns === "string" && ns !== "" ? ns : "default";
}

/** True if every `matchLabels` pair of `selector` is among `labels` (and there are no expressions). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
) {
  if (!selector) {
    return false;
  }
  const matchLabels = selector.matchLabels ?? {};
  const keys = Object.keys(matchLabels);
  if (keys.length === 0 && (selector.matchExpressions ?? []).length === 0) {
    return true;
  }
  if (!keys.every((k) => labels[k] === matchLabels[k])) {
    return false;
  }
  return (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        return has && (e.values ?? []).includes(value);
      case "NotIn":
        return !has || !(e.values ?? []).includes(value);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}

/** Where the pod spec sits in each workload type's arguments. */
const POD_SPEC_PATH: Readonly<Record<WorkloadType, string>> = {
  "kubernetes:core/v1:Pod": "spec",
  "kubernetes:apps/v1:Deployment": "spec.template.spec",
  "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
  "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
  "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
  "kubernetes:batch/v1:Job": "spec.template.spec",
  "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
};

/**
 * Evidence properties of a workload rule: the namespace and the given pod spec fields (e.g.
 * `containers[].securityContext`) at each workload type's pod spec path.
 */
export function workloadEvidence(podSpecFields: readonly string[]): EvidenceProperties {
  return Object.fromEntries(
    WORKLOAD_TYPES.map((t) => [
      t,
      ["metadata.namespace", ...podSpecFields.map((f) => `${POD_SPEC_PATH[t]}.${f}`)],
    ]),
  );
}
