// Pins the instant the config rules are judged at for every test suite (mocha `require`), so that no
// result depends on the day the suite runs (see src/config/clock.ts). A day inside the EKS standard
// support window of the versions the repository's environments pin; move it forward with them.
process.env.HCP_CONFIG_NOW ??= "2026-06-01T00:00:00Z";
