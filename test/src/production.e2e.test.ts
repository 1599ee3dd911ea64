import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { readConfig, type PortalConfig } from '@portal/kit';
import { dropTestDatabases, gql, removeTestDir, testConfig, testTempDir, uniqueDatabasePrefix } from '@portal/kit/testing';
import { DEMO } from '@portal/demo';
import { devCaFile, devCrlFile, ensureDevPki } from '@portal/identity';
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

async function productionFiles(dir: string) {
  const key = path.join(dir, 'prod-signing-key.pem');
  fs.writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  // The CA bundle and CRL files must exist and parse (identity reads them at start); a PKI like the
  // development one, written outside DATA_DIR, stands in: smart-card checks are tested elsewhere.
  const pkiDir = path.join(dir, 'prod-pki');
  await ensureDevPki(pkiDir);
  return { key, ca: devCaFile(pkiDir), crl: devCrlFile(pkiDir) };
}

describe('NODE_ENV=production', () => {
  it('refuses to start without an explicit signing key, smart-card CA file, CRL file and card issuers', () => {
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(
      /TOKEN_SIGNING_KEY_FILE, SMARTCARD_CA_FILE, SMARTCARD_CRL_FILE, SMARTCARD_CAC_ISSUERS or SMARTCARD_PIV_ISSUERS, REQUEST_ID_SECRET set explicitly\.$/,
    );
    const files = {
      NODE_ENV: 'production',
      TOKEN_SIGNING_KEY_FILE: '/dev/null',
      SMARTCARD_CA_FILE: '/dev/null',
      SMARTCARD_CAC_ISSUERS: 'CN=Some CA, O=Somewhere, C=US',
      REQUEST_ID_SECRET: 'a-production-request-id-secret-0123456789',
    };
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
        REQUEST_ID_SECRET: 'a-production-request-id-secret-0123456789',
      }),
    ).toThrow(/development signing key/);
  });

  it('never seeds the demo cast, and refuses a database that holds it', async () => {
    const dev = config();
    const prefix = databasePrefix();
    const seeded = await startStack({ config: dev, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: prefix });
    await seeded.close();
    const files = await productionFiles(dev.dataDir);
    const prod = { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl };
    await expect(startStack({ config: prod, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix })).rejects.toThrow(/demo cast/);
    await expect(startStack({ config: prod, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: databasePrefix() })).rejects.toThrow(/demo cast/);
  });

  it('refuses a database that holds only Jane’s children of the demo cast', async () => {
    const dev = config();
    const prefix = databasePrefix();
    const empty = await startStack({ config: dev, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix });
    await empty.subgraphs.identity.database.dataSource.query(
      `INSERT INTO person (id, kind, dod_id, given_name, middle_name, family_name, date_of_birth, specialty) VALUES ('${DEMO.liam}', 'PATIENT', '1000000004', 'Liam', NULL, 'Doe', '2011-07-28', NULL)`,
    );
    await empty.close();
    const files = await productionFiles(dev.dataDir);
    const prod = { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl };
    await expect(startStack({ config: prod, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix })).rejects.toThrow(/demo cast/);
  });

  it.each([
    ['SMARTCARD_CA_FILE', 'smartcardCaFile', /^SMARTCARD_CA_FILE: cannot use \S+missing\.pem \(it does not exist\)\.$/],
    ['SMARTCARD_CRL_FILE', 'smartcardCrlFile', /^SMARTCARD_CRL_FILE: cannot use \S+missing\.pem \(it does not exist\)\.$/],
    ['TOKEN_SIGNING_KEY_FILE', 'tokenSigningKeyFile', /^TOKEN_SIGNING_KEY_FILE: cannot use \S+missing\.pem \(it does not exist\)\.$/],
  ] as const)('stops the start, naming %s, when the file it names is missing (not at the first sign-in)', async (_setting, field, message) => {
    const dev = config();
    const files = await productionFiles(dev.dataDir);
    const prod = { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl };
    await expect(startStack({ config: { ...prod, [field]: path.join(dev.dataDir, 'missing.pem') }, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: databasePrefix() })).rejects.toThrow(message);
  });

  it('stops the start when SMARTCARD_CA_FILE holds no certificate or the CRL file does not parse', async () => {
    const dev = config();
    const files = await productionFiles(dev.dataDir);
    const prod = { ...dev, production: true, tokenSigningKeyFile: files.key, smartcardCaFile: files.ca, smartcardCrlFile: files.crl };
    const empty = path.join(dev.dataDir, 'empty.pem');
    fs.writeFileSync(empty, '');
    await expect(startStack({ config: { ...prod, smartcardCaFile: empty }, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: databasePrefix() })).rejects.toThrow(
      `SMARTCARD_CA_FILE ${empty} holds no certificate.`,
    );
    const garbled = path.join(dev.dataDir, 'garbled-crl.pem');
    fs.writeFileSync(garbled, '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n');
    await expect(startStack({ config: { ...prod, smartcardCrlFile: garbled }, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: databasePrefix() })).rejects.toThrow(
      /^SMARTCARD_CRL_FILE: cannot use \S+garbled-crl\.pem \(/,
    );
  });

  it('turns off introspection and Sandbox', async () => {
    const dev = config();
    const files = await productionFiles(dev.dataDir);
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
    const html = await page.text();
    expect(html).not.toMatch(/sandbox|embeddable/i);
    // No initial document, demo credentials or header template either.
    expect(html).not.toMatch(/SignInWithDsLogon|Demo-Password|Bearer/);
    // Public operations still answer.
    const contacts = await gql(stack.graphqlUrl, '{ supportContacts { phone } }');
    expect(contacts.data.supportContacts).toHaveLength(2);
  });
});
