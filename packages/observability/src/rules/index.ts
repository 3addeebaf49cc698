import type { EnvironmentTopology } from "@hcp/platform";
import type { HttpService, LibraryInputs } from "./library";
import type { RenderContext } from "./model";

export * from "./catalogue";
export * from "./library";
export * from "./model";

/** The library's inputs from an environment definition and the application services it monitors. */
export function libraryInputs(
  topology: EnvironmentTopology,
  services: readonly HttpService[],
): LibraryInputs {
  return {
    patroni: {
      ttlSeconds: topology.data.patroni.ttlSeconds,
      loopWaitSeconds: topology.data.patroni.loopWaitSeconds,
      synchronousMode: topology.data.patroni.synchronousMode,
    },
    archiveTimeoutSeconds: topology.data.backup.archiveTimeoutSeconds,
    backup: {
      fullSchedule: topology.data.backup.fullSchedule,
      diffSchedule: topology.data.backup.diffSchedule,
    },
    slo: { ...topology.observability.slo },
    services,
  };
}

/** Runbook links point at the repository the environment deploys from (access.github). */
export function renderContext(topology: EnvironmentTopology): RenderContext {
  const gh = topology.access.github;
  return {
    runbookBaseUrl: `https://github.com/${gh.owner}/${gh.repository}/blob/${gh.deployBranch}/docs/runbooks`,
  };
}
