import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "@hcp/kube";

/** The non-root user (and group) of the timescaledb-ha image. */
export const POSTGRES_UID = 1000;

/** Pod security settings every data-tier pod uses (Pod Security `restricted`, the image's user). */
export const POD_SECURITY = restrictedPodSecurityContext({ uid: POSTGRES_UID });

/**
 * Container security settings of every data-tier container: nothing but the mounted volumes is
 * writable (the data volume, the socket directory and /tmp, where Patroni keeps its pgpass and
 * pgBackRest its lock files).
 */
export const CONTAINER_SECURITY = restrictedContainerSecurityContext();
