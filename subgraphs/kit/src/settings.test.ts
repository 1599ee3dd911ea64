import fs from 'node:fs';
import path from 'node:path';
import { readConfig } from './config';
import { DEFAULT_EDGE_SETTINGS } from './edge/settings';
import { OUTBOX_DEFAULTS, readOutboxLimits } from './outbox';
import { parseSettings, SETTING_NAMES, SETTINGS, SettingsError } from './settings';

const ROOT = path.resolve(__dirname, '../../..');

/** NAME=value lines of .env.example. */
function envExample(): Map<string, string> {
  const lines = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n');
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) {
      expect(out.has(m[1])).toBe(false);
      out.set(m[1], m[2]);
    }
  }
  return out;
}

/** The variables named in the first column of the README's "Settings" table. */
function readmeSettings(): Set<string> {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Settings\n'), readme.indexOf('\n## ', readme.indexOf('\n## Settings\n') + 5));
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1];
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]);
  }
  return names;
}

/** Every `process.env.X`, `env.X` and `env['X']` read in the services' and scripts' code (tests aside). */
function environmentReads(): Map<string, string> {
  const reads = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(file);
      } else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\b(?:process\.)?env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) reads.set(m[1] ?? m[2], path.relative(ROOT, file));
      }
    }
  };
  for (const dir of ['subgraphs', 'gateway', 'scripts']) walk(path.join(ROOT, dir));
  return reads;
}

/** Read from the environment but not settings of a service: set by the scripts themselves, by the test harness, or by a client tool. */
const NOT_SERVICE_SETTINGS = new Set([
  'APOLLO_TELEMETRY_DISABLED', // set by every entry point to 1 (STACK.md: the gateway phones home otherwise)
  'PORTAL_TEST_DB',
  'PORTAL_TEST_RUN',
  'PORTAL_TEST_TMP',
  'TEST_DATABASE_URL',
  'TEST_REDIS_URL',
  'PORTAL_TEST_REDIS', // test/global-setup.js: the tests' Redis, or none
  'PORTAL_TEST_REDIS_PROBED',
  'PORTAL_CONTRACT_DIR',
  'GATEWAY_URL', // scripts/sign-challenge.ts, a client of the gateway
]);

describe('the settings schema', () => {
  it('names the same settings as .env.example, with the defaults it shows', () => {
    const example = envExample();
    expect([...example.keys()].sort()).toEqual([...SETTING_NAMES].sort());
    for (const name of SETTING_NAMES) expect([name, example.get(name)]).toEqual([name, SETTINGS[name].example]);
  });

  it('names the same settings as the README\'s "Settings" table', () => {
    expect([...readmeSettings()].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('covers every variable the services read from the environment', () => {
    const unknown = [...environmentReads()].filter(([name]) => !(name in SETTINGS) && !NOT_SERVICE_SETTINGS.has(name));
    expect(unknown).toEqual([]);
  });

  it('reads .env.example as the defaults: the values it shows are those of an empty environment', () => {
    const example = Object.fromEntries(envExample());
    expect(readConfig(example)).toEqual(readConfig({}));
    expect(readConfig(example).edge).toEqual(DEFAULT_EDGE_SETTINGS);
    expect(readOutboxLimits(example)).toEqual({ maxRefusals: OUTBOX_DEFAULTS.maxRefusals, retentionHours: OUTBOX_DEFAULTS.retentionHours });
    const s = parseSettings(example);
    // Unset, these take the outbox defaults (identity's notices and pharmacy's outbox share them).
    expect([s.IDENTITY_NOTICE_POLL_MS, s.PHARMACY_OUTBOX_POLL_MS, s.PHARMACY_OUTBOX_RETRY_BASE_MS, s.PHARMACY_OUTBOX_RETRY_MAX_MS]).toEqual([
      OUTBOX_DEFAULTS.pollMs,
      OUTBOX_DEFAULTS.pollMs,
      OUTBOX_DEFAULTS.retryBaseMs,
      OUTBOX_DEFAULTS.retryMaxMs,
    ]);
    expect([s.PORT, s.PORTAL_QUIET, s.PORTAL_LOG_ERRORS, s.TRUSTED_DOCUMENTS]).toEqual([4000, false, true, false]);
  });

  it('refuses a bad value with one message naming each setting at fault and what is wrong', () => {
    let error: unknown;
    try {
      parseSettings({ SUBGRAPH_TIMEOUT_MS: '5s', IDENTITY_URL: 'identity:4001', PORTAL_QUIET: 'yes', NODE_ENV: 'staging', GRAPHQL_MAX_DEPTH: '2' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).problems.map((p) => p.setting).sort()).toEqual(['IDENTITY_URL', 'NODE_ENV', 'PORTAL_QUIET', 'SUBGRAPH_TIMEOUT_MS']);
    expect((error as Error).message.split('\n').sort()).toEqual([
      'IDENTITY_URL must be an http(s):// URL (got "identity:4001").',
      'NODE_ENV must be production, development or test (got "staging").',
      'PORTAL_QUIET must be 1 or 0.',
      'SUBGRAPH_TIMEOUT_MS must be a whole number of milliseconds from 100 to 60000 (got "5s").',
    ]);
  });

  it.each([
    ['PORT', '40o0'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_SCHEMA', 'a;drop'],
    ['REDIS_URL', 'localhost:6379'],
    ['REQUEST_ID_SECRET', 'short'],
    ['PHARMACY_URL', 'ftp://pharmacy'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['RATE_LIMIT_TOKEN', '10 per minute'],
    ['PHARMACY_OUTBOX_POLL_MS', '0'],
    ['OUTBOX_RETENTION_HOURS', '1e3'],
    ['SMARTCARD_CRL_GRACE_HOURS', '721'],
    ['PASSWORD_HASH_QUEUE', '-1'],
  ])('readConfig refuses %s=%s, naming it', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(new RegExp(`^${name}\\b`));
  });

  it('takes good values and reads empty as unset', () => {
    const s = parseSettings({ PORT: '4100', IDENTITY_URL: 'https://identity.internal/', TOKEN_PREVIOUS_KEY_FILES: 'a.pem, b.pem', PORTAL_QUIET: '1', DATABASE_URL: '', HOST: '  ' });
    expect([s.PORT, s.IDENTITY_URL, s.TOKEN_PREVIOUS_KEY_FILES, s.PORTAL_QUIET, s.DATABASE_URL, s.HOST]).toEqual([4100, 'https://identity.internal', ['a.pem', 'b.pem'], true, undefined, undefined]);
  });
});
