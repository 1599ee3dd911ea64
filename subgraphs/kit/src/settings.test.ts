import { readConfig } from './config';
import { defineSubgraphSettings, defineSetting, allSettings, parseSettings, parseSettingsOf, SETTINGS, SettingsError, subgraphSettings, textSetting } from './settings';

describe('the settings schema', () => {
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
    ['OUTBOX_RETENTION_HOURS', '1e3'],
  ])('readConfig refuses %s=%s, naming it', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(new RegExp(`^${name}\\b`));
  });

  it('takes good values and reads empty as unset', () => {
    const s = parseSettings({ PORT: '4100', IDENTITY_URL: 'https://identity.internal/', CORS_ORIGINS: 'https://a.mil, https://b.mil', PORTAL_QUIET: '1', DATABASE_URL: '', HOST: '  ' });
    expect([s.PORT, s.IDENTITY_URL, s.CORS_ORIGINS, s.PORTAL_QUIET, s.DATABASE_URL, s.HOST]).toEqual([4100, 'https://identity.internal', ['https://a.mil', 'https://b.mil'], true, undefined, undefined]);
  });

  it('names no subgraph’s own setting (those are in each subgraph’s src/settings.ts)', () => {
    for (const name of ['SMARTCARD_CRL_FILE', 'SMARTCARD_CAC_ISSUERS', 'PASSWORD_HASH_QUEUE', 'TOKEN_PREVIOUS_KEY_FILES', 'IDENTITY_NOTICE_POLL_MS', 'PHARMACY_OUTBOX_POLL_MS', 'PHARMACY_CLIENT_ID']) {
      expect([name, name in SETTINGS]).toEqual([name, false]);
    }
  });
});

describe('a subgraph’s own settings (defineSubgraphSettings)', () => {
  const declared = defineSubgraphSettings({
    owner: 'settings-test',
    settings: {
      TEST_WIDGET_FILE: textSetting(''),
      TEST_WIDGET_COUNT: defineSetting('3', (v) => {
        if (v !== undefined && !/^\d+$/.test(v)) throw new Error('TEST_WIDGET_COUNT must be a whole number.');
        return v === undefined ? 3 : Number(v);
      }),
    },
    config: (s) => ({ redisKeyPrefix: `widgets-${s.TEST_WIDGET_COUNT}:` }),
    missingInProduction: (s) => (s.TEST_WIDGET_FILE ? [] : ['TEST_WIDGET_FILE']),
  });

  it('extends the kit’s schema: readConfig checks both in one pass and fills in the subgraph’s part', () => {
    expect(subgraphSettings()).toEqual([declared]);
    expect(Object.keys(allSettings())).toEqual([...Object.keys(SETTINGS), 'TEST_WIDGET_FILE', 'TEST_WIDGET_COUNT']);
    expect(readConfig({ TEST_WIDGET_COUNT: '7' }).redisKeyPrefix).toBe('widgets-7:');
    expect(() => readConfig({ TEST_WIDGET_COUNT: 'many', PORT: 'x' })).toThrow(SettingsError);
    try {
      readConfig({ TEST_WIDGET_COUNT: 'many', PORT: 'x' });
    } catch (e) {
      expect((e as SettingsError).problems.map((p) => p.setting).sort()).toEqual(['PORT', 'TEST_WIDGET_COUNT']);
    }
    expect(parseSettingsOf(declared.settings, { TEST_WIDGET_COUNT: '2' })).toEqual({ TEST_WIDGET_FILE: undefined, TEST_WIDGET_COUNT: 2 });
  });

  it('adds what production refuses to start without, between the kit’s', () => {
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(/without TOKEN_SIGNING_KEY_FILE, SMARTCARD_CA_FILE, TEST_WIDGET_FILE, REQUEST_ID_SECRET set explicitly\.$/);
  });

  it('refuses a name the kit or another subgraph already has', () => {
    expect(() => defineSubgraphSettings({ owner: 'other', settings: { PORT: textSetting('') }, config: () => ({}) })).toThrow(/one of the kit's/);
    expect(() => defineSubgraphSettings({ owner: 'other', settings: { TEST_WIDGET_FILE: textSetting('') }, config: () => ({}) })).toThrow(/already settings-test's/);
  });
});
