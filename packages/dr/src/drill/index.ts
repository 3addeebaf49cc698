/**
 * The DR drill on real engines, exported as `@hcp/dr/drill` (test and benchmark support, like
 * `@hcp/postgres/harness` which it builds on): two "regions" on loopback booted from the rendered
 * production configurations, and the scenarios the integration test runs once and `pnpm bench:dr`
 * runs N times (archive fallback, region loss with the real promote path, failback).
 */
export * from "./drill";
export * from "./region";
export * from "./scenarios";
