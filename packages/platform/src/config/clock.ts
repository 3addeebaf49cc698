/**
 * The instant date-bound config rules (EKS standard support) are judged at. It is the real time,
 * unless `HCP_CONFIG_NOW` names another instant: the test suites pin it (packages/platform/test-clock.cjs,
 * loaded by every package's mocha config) so that no test result depends on the day it runs, and an
 * operator can ask "would this config still pass on <date>?" with `HCP_CONFIG_NOW=2027-03-01 pnpm plan`.
 */

/** Environment variable that pins the config clock (an ISO 8601 date or instant). */
export const CONFIG_NOW_VARIABLE = "HCP_CONFIG_NOW";

/** The instant config rules are judged at. Throws on a malformed `HCP_CONFIG_NOW`. */
export function configNow(env: NodeJS.ProcessEnv = process.env): Date {
  const pinned = env[CONFIG_NOW_VARIABLE];
  if (pinned === undefined || pinned === "") {
    return new Date();
  }
  const at = new Date(pinned);
  if (Number.isNaN(at.getTime())) {
    throw new Error(
      `${CONFIG_NOW_VARIABLE}=${JSON.stringify(pinned)} is not a date. Fix: give an ISO 8601 date such as 2026-06-01, or unset it to use the current time.`,
    );
  }
  return at;
}
