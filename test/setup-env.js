// Runs before every test file. The Apollo gateway phones home unless told not to.
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.TURBO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
process.env.PORTAL_TEST_DB = globalThis.PORTAL_TEST_DB || 'sqlite';
