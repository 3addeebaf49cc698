import type * as k8s from "@pulumi/kubernetes";

/**
 * Security contexts that pass Pod Security `restricted` (runs as a non-root user, RuntimeDefault
 * seccomp, no privilege escalation, every capability dropped) with a read-only root filesystem: what a
 * container may write is declared as volumes.
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/** The user a pod runs as. */
export interface RunAs {
  /** User id (not 0: `restricted` refuses root). */
  readonly uid: number;
  /** Group id. @default - the uid */
  readonly gid?: number;
  /** Group that owns mounted volumes (fsGroup). @default - the gid */
  readonly fsGroup?: number;
}

/** Pod security context for `restricted`, running as `runAs`. */
export function restrictedPodSecurityContext(runAs: RunAs): k8s.types.input.core.v1.PodSecurityContext {
  const gid = runAs.gid ?? runAs.uid;
  const fsGroup = runAs.fsGroup ?? gid;
  const problems = (
    [
      ["uid", runAs.uid],
      ["gid", gid],
      ["fsGroup", fsGroup],
    ] as const
  )
    .filter(([, id]) => !Number.isInteger(id) || id < 1)
    .map(([key, id]) => `${key} ${id}`);
  if (problems.length > 0) {
    throw new Error(
      `restrictedPodSecurityContext: ${problems.join(", ")} is not a non-root id. Fix: use the image's ` +
        `non-root user (a positive integer; Pod Security restricted refuses uid 0).`,
    );
  }
  return {
    runAsNonRoot: true,
    runAsUser: runAs.uid,
    runAsGroup: gid,
    fsGroup,
    // Only chown a volume whose root does not match already: large data volumes start fast.
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container security context for `restricted`: nothing but the mounted volumes is writable. */
export function restrictedContainerSecurityContext(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
}

/** A writable directory of a container with a read-only root filesystem. */
export interface WritablePath {
  readonly mountPath: string;
  /** @default - no limit (the node's ephemeral storage) */
  readonly sizeLimitMiB?: number;
  /** `Memory`: a tmpfs, counted against the container's memory limit. @default - node disk */
  readonly medium?: "Memory";
}

/** emptyDir volumes and their mounts, by volume name. */
export interface WritableVolumes<K extends string> {
  /** The emptyDir volumes, in the order the paths were declared. */
  readonly volumes: k8s.types.input.core.v1.Volume[];
  /** One mount per volume, by name (a container mounts the ones it writes to). */
  readonly mounts: Readonly<Record<K, k8s.types.input.core.v1.VolumeMount>>;
}

/**
 * emptyDir volumes for the paths a container writes to (`{ tmp: "/tmp" }`): volume names are the
 * keys, so a pod spec and its containers cannot disagree.
 */
export function writableVolumes<K extends string>(
  paths: Readonly<Record<K, string | WritablePath>>,
): WritableVolumes<K> {
  const entries = Object.entries(paths) as Array<[K, string | WritablePath]>;
  const problems = entries
    .filter(([name, p]) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || !pathOf(p).startsWith("/"))
    .map(([name, p]) => `${name}: ${pathOf(p)}`);
  if (problems.length > 0) {
    throw new Error(
      `writableVolumes: ${problems.join("; ")}. Fix: volume names are DNS labels (lower-case letters, digits, ` +
        `'-') and mount paths are absolute.`,
    );
  }
  const volumes = entries.map(([name, p]): k8s.types.input.core.v1.Volume => {
    const spec: Omit<WritablePath, "mountPath"> = typeof p === "string" ? {} : p;
    return {
      name,
      emptyDir: {
        ...(spec.medium ? { medium: spec.medium } : {}),
        ...(spec.sizeLimitMiB !== undefined ? { sizeLimit: `${spec.sizeLimitMiB}Mi` } : {}),
      },
    };
  });
  const mounts = {} as Record<K, k8s.types.input.core.v1.VolumeMount>;
  for (const [name, p] of entries) {
    mounts[name] = { name, mountPath: pathOf(p) };
  }
  return { volumes, mounts };
}

function pathOf(p: string | WritablePath): string {
  return typeof p === "string" ? p : p.mountPath;
}
