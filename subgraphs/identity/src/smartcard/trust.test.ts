import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificatePem, createCrl, createIntermediateCa, createRootCa, type Issued } from './pki';
import { TrustStore, type CardRules } from './trust';

/** Every CA of the bundle speaks for every kind of card; no policy; CRLs believed until their nextUpdate. */
const ANY_RULES: CardRules = { issuers: { CAC: 'any', PIV: 'any' }, policyOids: { CAC: [], PIV: [] }, crlGraceMs: 0 };

describe('TrustStore', () => {
  let dir: string;
  let root: Issued;
  let intermediate: Issued;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-trust-test-'));
    root = await createRootCa('CN=Trust Root, C=US', { keyKind: 'P-256' });
    intermediate = await createIntermediateCa(root, 'CN=Trust CA-1, C=US', { keyKind: 'P-256' });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  /** Rewrites a file so that its size or times differ, as a deployment replacing it would. */
  const replace = (f: string, text: string) => {
    fs.writeFileSync(f, text);
    const t = new Date(Date.now() + 5_000);
    fs.utimesSync(f, t, t);
  };

  it('trusts every CA in the bundle, in order', async () => {
    const store = new TrustStore({ rules: ANY_RULES, caFile: file('bundle.pem', `comment\n${certificatePem(intermediate)}\n${certificatePem(root)}`) });
    expect((await store.anchors()).map((c) => c.subject)).toEqual(['CN=Trust CA-1, C=US', 'CN=Trust Root, C=US']);
  });

  it('refuses a CA file with no certificate in it', async () => {
    const caFile = file('empty.pem', 'nothing here');
    await expect(new TrustStore({ rules: ANY_RULES, caFile }).anchors()).rejects.toThrow(`SMARTCARD_CA_FILE ${caFile} holds no certificate.`);
  });

  it('runs prepare once, before the CA file is first read', async () => {
    const caFile = path.join(dir, 'prepared.pem');
    let runs = 0;
    const store = new TrustStore({ rules: ANY_RULES, 
      caFile,
      prepare: async () => {
        runs++;
        // Written after a turn of the event loop, as a real preparation would: the read waits for it.
        await new Promise((resolve) => setImmediate(resolve));
        fs.writeFileSync(caFile, certificatePem(root));
      },
    });
    expect(await store.anchors()).toHaveLength(1);
    expect(await store.anchors()).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('reads the CA file again only when it changes', async () => {
    const caFile = file('changing.pem', certificatePem(root));
    const store = new TrustStore({ rules: ANY_RULES, caFile });
    const first = await store.anchors();
    expect(await store.anchors()).toBe(first);
    replace(caFile, certificatePem(intermediate) + certificatePem(root));
    expect((await store.anchors()).map((c) => c.subject)).toEqual(['CN=Trust CA-1, C=US', 'CN=Trust Root, C=US']);
  });

  it('has no CRL list at all (null, not an empty one) without a CRL file', () => {
    expect(new TrustStore({ rules: ANY_RULES, caFile: file('x.pem', certificatePem(root)) }).crls()).toBeNull();
  });

  it('reads CRLs written as X509 CRL or plain CRL, and a new CRL file without a restart', async () => {
    const crl = await createCrl(intermediate, [root.cert]);
    const der = crl.toString('base64');
    const wrap = (label: string) => `-----BEGIN ${label}-----\n${der.replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
    const crlFile = file('crls.pem', wrap('X509 CRL') + wrap('CRL'));
    const store = new TrustStore({ rules: ANY_RULES, caFile: file('y.pem', certificatePem(root)), crlFile });
    const first = store.crls();
    expect(first?.map((c) => c.issuer)).toEqual(['CN=Trust CA-1, C=US', 'CN=Trust CA-1, C=US']);
    expect(store.crls()).toBe(first);
    replace(crlFile, '');
    expect(store.crls()).toEqual([]);
  });
});
