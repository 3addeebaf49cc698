/**
 * Retention values and thresholds that the config schema, the layers and the policy pack share.
 */

/**
 * The `retentionInDays` values CloudWatch Logs accepts (PutRetentionPolicy). 2555 is not one of them:
 * seven years is 2557 days.
 */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Seven years in days as CloudWatch and S3 Object Lock count them (includes two leap days). */
export const SEVEN_YEARS_DAYS = 2557;

/** Minimum years of audit retention (HIPAA §164.316(b)(2): six years; our posture: seven). */
export const MIN_AUDIT_YEARS = 7;

/** True when CloudWatch accepts `days` as a log group retention. */
export function isValidCloudWatchRetention(days: number): boolean {
  return CLOUDWATCH_RETENTION_DAYS.includes(days);
}

/** The smallest accepted CloudWatch retention that is at least `days`, if any. */
export function cloudWatchRetentionAtLeast(days: number): number | undefined {
  return CLOUDWATCH_RETENTION_DAYS.find((d) => d >= days);
}

/** Days in `years` calendar years, counting leap days the way AWS does for retention (365.25). */
export function yearsToDays(years: number): number {
  return Math.ceil(years * 365.25);
}
