import { namePrefix, physicalName } from "./naming";

/**
 * Names and limits the CI infrastructure (environment and network layers) and the CI workflows
 * (`@hcp/plan`'s `affected` / `deploy-order`) must agree on. One definition, so a workflow's
 * `runs-on` label and the CodeBuild project it names cannot drift apart.
 */

/**
 * Name of the CodeBuild project that hosts the in-VPC GitHub Actions runners of a region. A job runs
 * on it with `runs-on: codebuild-<this name>-${{ github.run_id }}-${{ github.run_attempt }}`.
 */
export function ciRunnerProjectName(environment: string, region: string): string {
  return physicalName("codebuildProject", namePrefix(environment, region), "ci-runner");
}

/**
 * Name of the CodeConnections (GitHub App) connection of a region, through which that region's
 * runner project registers its webhook and runners with GitHub.
 */
export function ciConnectionName(environment: string, region: string): string {
  return physicalName("codeConnection", namePrefix(environment, region), "github");
}

/**
 * Session lengths of the CI roles, in seconds. A job assumes its role once, at its start, for
 * {@link CI_JOB_TIMEOUT_MINUTES} of its kind: the role's `maxSessionDuration` must allow that, and
 * the job's `role-duration-seconds` asks for it, so credentials never expire before the job's own
 * timeout stops it. Deployments assume the deploy role again in every layer's job.
 */
export const CI_SESSION_SECONDS = { preview: 3600, deploy: 3 * 3600 } as const;

/** The longest a CI job of each kind may run (its `timeout-minutes`). */
export const CI_JOB_TIMEOUT_MINUTES = { preview: 45, deploy: 180 } as const;
