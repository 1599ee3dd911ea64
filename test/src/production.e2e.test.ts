import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { readConfig, type PortalConfig } from '@portal/kit';
import { dropTestDatabases, gql, removeTestDir, testConfig, testTempDir, uniqueDatabasePrefix } from '@portal/kit/src/testing';
import { startStack, type Stack } from '@portal/server';

const stacks: Stack[] = [];
/** Directories (some hold a production signing key) and schema prefixes this file made. */
const dirs: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  try {
    for (const s of stacks) await s.close().catch(() => undefined);
    for (const prefix of prefixes) await dropTestDatabases(prefix);
  } finally {
    for (const dir of dirs) removeTestDir(dir);
  }
});

function config(): PortalConfig {
  const c = testConfig();
  dirs.push(c.dataDir);
  return c;
}
function databasePrefix(): string {
  const prefix = uniqueDatabasePrefix();
  prefixes.push(prefix);
  return prefix;
}

function productionFiles(dir: string) {
  const key = path.join(dir, 'prod-signing-key.pem');
  fs.writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  // A CA bundle file is required to exist; smart-card checks are tested elsewhere.
  const ca = path.join(dir, 'prod-ca.pem');
  fs.writeFileSync(ca, '');
  const crl = path.join(dir, 'prod-crl.pem');
  fs.writeFileSync(crl, '');
  return { key, ca, crl };
}

describe('NODE_ENV=production', () => {
  it('refuses to start without an explicit signing key, smart-card CA file, CRL file and card issuers', () => {
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(
      /TOKEN_SIGNING_KEY_FILE, SMARTCARD_CA_FILE, SMARTCARD_CRL_FILE, SMARTCARD_CAC_ISSUERS or SMARTCARD_PIV_ISSUERS/,
    );
    const files = { NODE_ENV: 'production', TOKEN_SIGNING_KEY_FILE: '/dev/null', SMARTCARD_CA_FILE: '/dev/null', SMARTCARD_CAC_ISSUERS: 'CN=Some CA, O=Somewhere, C=US' };
    expect(() => readConfig(files)).toThrow(/without SMARTCARD_CRL_FILE set/);
    expect(() => readConfig({ ...files, SMARTCARD_CRL_FILE: '/dev/null' })).not.toThrow();
    expect(() => readConfig({ ...files, SMARTCARD_CRL_FILE: '/dev/null', SMARTCARD_CRL_GRACE_HOURS: 'soon' })).toThrow(/SMARTCARD_CRL_GRACE_HOURS/);
    expect(() => readConfig({ ...files, SMARTCARD_CRL_FILE: '/dev/null', SMARTCARD_CAC_POLICY_OIDS: 'medium-hardware' })).toThrow(/not an OID/);
  });

  it('refuses the development signing key generated under DATA_DIR', () => {
    const dataDir = testTempDir('portal-prod-');
    dirs.push(dataDir);
    expect(() =>
      readConfig({
        NODE_ENV: 'production',
        DATA_DIR: dataDir,
        TOKEN_SIGNING_KEY_FILE: path.join(dataDir, 'keys', 'token-signing-key.pem'),
        SMARTCARD_CA_FILE: '/dev/null',
        SMARTCARD_CRL_FILE: '/dev/null',
        SMARTCARD_CAC_ISSUERS: 'CN=Some CA, O=Somewhere, C=US',
      }),
    ).toThrow(/development signing key/);
  });

  it('never seeds the demo cast, and refuses a database that holds it', async () => {
    const dev = config();
    const prefix = databasePrefix();
    const seeded = await startStack({ config: dev, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: prefix });
    await seeded.close();
    const files = productionFiles(dev.dataDir);
    const prod = { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl };
    await expect(startStack({ config: prod, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix })).rejects.toThrow(/demo cast/);
    await expect(startStack({ config: prod, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: databasePrefix() })).rejects.toThrow(/demo cast/);
  });

  it('turns off introspection and Sandbox', async () => {
    const dev = config();
    const files = productionFiles(dev.dataDir);
    const stack = await startStack({
      config: { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl },
      port: 0,
      ephemeralPorts: true,
      seedDemo: false,
      databasePrefix: databasePrefix(),
    });
    stacks.push(stack);
    const res = await gql(stack.graphqlUrl, '{ __schema { types { name } } }');
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const direct = await gql(stack.subgraphs.identity.graphqlUrl, '{ __schema { types { name } } }');
    expect(direct.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const page = await fetch(stack.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/sandbox|embeddable/i);
    // Public operations still answer.
    const contacts = await gql(stack.graphqlUrl, '{ supportContacts { phone } }');
    expect(contacts.data.supportContacts).toHaveLength(2);
  });
});
