/**
 * The settings of every service, the kit's and each subgraph's own together
 * (loading @portal/server loads every subgraph, whose settings.ts registers
 * them): `.env.example`, README's "Settings" table and the schemas agree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allSettings, OUTBOX_DEFAULTS, parseSettingsOf, readConfig, readOutboxLimits, subgraphSettings, DEFAULT_EDGE_SETTINGS } from '@portal/kit';
import { DEFAULT_PASSWORD_HASH_CONCURRENCY, parseIdentitySettings } from '@portal/identity';
import { parsePharmacySettings } from '@portal/pharmacy';
import { MODULES } from '@portal/server';

const ROOT = path.resolve(__dirname, '../..');

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
  for (const dir of ['subgraphs', 'gateway', 'server', 'scripts']) walk(path.join(ROOT, dir));
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

describe('the settings schemas (the kit’s and every subgraph’s)', () => {
  const SETTINGS = allSettings();
  const SETTING_NAMES = Object.keys(SETTINGS);

  it('gathers every subgraph’s own settings', () => {
    expect(Object.keys(MODULES).length).toBe(5);
    expect(subgraphSettings().map((d) => d.owner).sort()).toEqual(['identity', 'pharmacy']);
  });

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
    const s = { ...parseIdentitySettings(example), ...parsePharmacySettings(example) };
    // Unset, these take the outbox defaults (identity's notices and pharmacy's outbox share them).
    expect([s.IDENTITY_NOTICE_POLL_MS, s.PHARMACY_OUTBOX_POLL_MS, s.PHARMACY_OUTBOX_RETRY_BASE_MS, s.PHARMACY_OUTBOX_RETRY_MAX_MS]).toEqual([
      OUTBOX_DEFAULTS.pollMs,
      OUTBOX_DEFAULTS.pollMs,
      OUTBOX_DEFAULTS.retryBaseMs,
      OUTBOX_DEFAULTS.retryMaxMs,
    ]);
    const kit = parseSettingsOf(SETTINGS, example) as Record<string, unknown>;
    expect([kit.PORT, kit.PORTAL_QUIET, kit.PORTAL_LOG_ERRORS, kit.TRUSTED_DOCUMENTS]).toEqual([4000, false, true, false]);
    expect(readConfig(example).passwordHashing).toEqual({ concurrency: DEFAULT_PASSWORD_HASH_CONCURRENCY, queue: 32 });
  });

  it.each([
    ['PHARMACY_OUTBOX_POLL_MS', '0'],
    ['SMARTCARD_CRL_GRACE_HOURS', '721'],
    ['PASSWORD_HASH_QUEUE', '-1'],
    ['PASSWORD_HASH_QUEUE', 'lots'],
    ['PASSWORD_HASH_CONCURRENCY', '0'],
  ])('readConfig refuses a subgraph’s own %s=%s, naming it', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(new RegExp(`^${name}\\b`));
  });

  it('reads a subgraph’s own settings into the config: identity’s keys, cards and password hashing', () => {
    const config = readConfig({ TOKEN_PREVIOUS_KEY_FILES: 'a.pem, b.pem', SMARTCARD_CAC_ISSUERS: 'CN=A; CN=B', PASSWORD_HASH_CONCURRENCY: '4', PASSWORD_HASH_QUEUE: '0' });
    expect(config).toMatchObject({ tokenPreviousKeyFiles: ['a.pem', 'b.pem'], smartcardCacIssuers: ['CN=A', 'CN=B'], smartcardCrlGraceHours: 24, passwordHashing: { concurrency: 4, queue: 0 } });
  });
});
