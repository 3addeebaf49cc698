import * as assert from "node:assert/strict";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, writableVolumes } from "../src";

describe("security contexts", () => {
  it("runs a pod as the given non-root user with RuntimeDefault seccomp", () => {
    assert.deepEqual(restrictedPodSecurityContext({ uid: 1000 }), {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(restrictedPodSecurityContext({ uid: 70, gid: 71, fsGroup: 72 }), {
      runAsNonRoot: true,
      runAsUser: 70,
      runAsGroup: 71,
      fsGroup: 72,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("refuses root and non-integer ids, naming each", () => {
    assert.throws(
      () => restrictedPodSecurityContext({ uid: 0, gid: 1.5 }),
      /uid 0, gid 1\.5, fsGroup 1\.5 is not a non-root id.*Fix/,
    );
  });

  it("drops every capability and makes the root filesystem read-only", () => {
    assert.deepEqual(restrictedContainerSecurityContext(), {
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("declares writable paths as emptyDir volumes with mounts of the same names", () => {
    const w = writableVolumes({
      socket: "/var/run/postgresql",
      tmp: { mountPath: "/tmp", sizeLimitMiB: 512, medium: "Memory" },
    });
    assert.deepEqual(w.volumes, [
      { name: "socket", emptyDir: {} },
      { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "512Mi" } },
    ]);
    assert.deepEqual(w.mounts, {
      socket: { name: "socket", mountPath: "/var/run/postgresql" },
      tmp: { name: "tmp", mountPath: "/tmp" },
    });
  });

  it("refuses volume names that are not DNS labels and relative paths", () => {
    assert.throws(() => writableVolumes({ Tmp: "/tmp", work: "work" }), /Tmp: \/tmp; work: work\. Fix/);
  });
});
