/**
 * Card sign-in with the card in the TLS handshake (signInWithClientCertificate):
 * on the gateway's own HTTPS listener, and behind a reverse proxy that passes
 * the certificate on in a Client-Cert header, believed only from TRUSTED_PROXIES.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { clientCertificateProof, FORWARDED_CLIENT_CERT_HEADER, FORWARDED_CLIENT_CERT_PROOF_HEADER, REQUEST_ID_HEADER, type RunningServer } from '@portal/kit';
import { gql, removeTestDir, testConfig, TEST_REQUEST_ID_SECRET } from '@portal/kit/testing';
import { readSubgraphLimits, startGateway, type GatewayConfig, type SubgraphName } from '@portal/gateway';
import { createTestPki, type TestPki } from '@portal/identity/testing';
import { certificatePem, issueCard, privateKeyPem, type Issued } from '@portal/identity/testing';
import { x509 } from '@portal/identity/testing';
import { operation, startTestStack, type TestStack } from './harness';

const SIGN_IN = operation('SignInWithClientCertificate');
const DAY = 86_400_000;

let pki: TestPki;
let stack: TestStack;
/** Serves HTTPS, asks for a client certificate; trusts no proxy. */
let tlsGateway: RunningServer;
/** Plain HTTP behind a "proxy" on 127.0.0.1, whose client-cert header it believes. */
let proxiedGateway: RunningServer;
let jane: Issued;
let revoked: Issued;
let expired: Issued;
let unknown: Issued;
let rootPem: string;

beforeAll(async () => {
  pki = await createTestPki();
  jane = await pki.card({ commonName: 'DOE.JANE.A.1000000001' });
  revoked = await pki.card({ commonName: 'ROE.JOHN.B.1000000002' });
  expired = await pki.card({ commonName: 'DOE.JANE.A.1000000001', notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
  // Well issued, but no one with this DoD ID is known to the portal.
  unknown = await pki.card({ commonName: 'NOBODY.NO.1999999999' });
  await pki.writeCrls([revoked]);
  rootPem = certificatePem(pki.root);

  // The server's certificate, from the test PKI, with the chain up to the root the client trusts.
  const server = await issueCard(pki.intermediate, {
    commonName: 'localhost',
    extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  });
  const certFile = path.join(pki.dir, 'server.cert.pem');
  const keyFile = path.join(pki.dir, 'server.key.pem');
  fs.writeFileSync(certFile, `${certificatePem(server)}\n${certificatePem(pki.intermediate)}\n`);
  fs.writeFileSync(keyFile, privateKeyPem(server.keys), { mode: 0o600 });

  const cards = { smartcardCaFile: pki.caFile, smartcardCrlFile: pki.crlFile };
  stack = await startTestStack(cards);
  const gatewayConfig = (trustedProxies: string[], extra: Partial<GatewayConfig>): GatewayConfig => {
    const subgraphUrls = Object.fromEntries(Object.values(stack.subgraphs).map((s) => [s.name, s.url])) as Record<SubgraphName, string>;
    return {
      portal: testConfig({ ...cards, dataDir: stack.dataDir, identityUrl: subgraphUrls.identity, trustedProxies }),
      port: 0,
      host: '127.0.0.1',
      subgraphUrls,
      ...readSubgraphLimits({}),
      subgraphTimeoutMs: 10_000,
      ...extra,
    };
  };
  tlsGateway = await startGateway({ config: gatewayConfig([], { tls: { certFile, keyFile }, clientCertHeader: 'client-cert' }) });
  proxiedGateway = await startGateway({ config: gatewayConfig(['127.0.0.1'], { clientCertHeader: 'client-cert' }) });
});

afterAll(async () => {
  try {
    await tlsGateway?.close();
    await proxiedGateway?.close();
    await stack?.stop();
  } finally {
    removeTestDir(pki?.dir);
  }
});

interface Answer {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL request over HTTPS, presenting `card` (its certificate and key) in the handshake when given. */
function overTls(query: string, card?: Issued, headers: Record<string, string> = {}): Promise<Answer> {
  const body = JSON.stringify({ query, variables: {} });
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${tlsGateway.url}/graphql`,
      {
        method: 'POST',
        agent: false,
        ca: rootPem,
        // The certificate names localhost, the URL an address: the chain is still checked against the root.
        checkServerIdentity: () => undefined,
        ...(card ? { cert: certificatePem(card), key: privateKeyPem(card.keys) } : {}),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, ...JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const der = (card: Issued) => Buffer.from(card.cert.rawData).toString('base64');
const codeOf = (res: Answer) => res.errors?.[0]?.extensions?.code;

describe('on the gateway’s own HTTPS listener', () => {
  it('signs a registered card in with the certificate of the handshake, and the token works', async () => {
    const res = await overTls(SIGN_IN, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.signInWithClientCertificate.account).toEqual({ id: 'ac-jane-doe', status: 'ACTIVE' });
    expect(Date.parse(res.data.signInWithClientCertificate.expiresAt)).toBeGreaterThan(Date.now());
    const view = await stack.query(operation('PortalView'), {}, res.data.signInWithClientCertificate.accessToken);
    expect(view.errors).toBeUndefined();
    expect(view.data.me.patient.name.given).toBe('Jane');
  });

  it('makes the same checks as a card sign-in: revoked, expired, unknown', async () => {
    expect(codeOf(await overTls(SIGN_IN, revoked))).toBe('CERTIFICATE_REVOKED');
    expect(codeOf(await overTls(SIGN_IN, expired))).toBe('CERTIFICATE_EXPIRED');
    expect(codeOf(await overTls(SIGN_IN, unknown))).toBe('CARD_NOT_REGISTERED');
  });

  it('audits TLS sign-ins and their refusals as card sign-ins, marked via=TLS', async () => {
    const rows = (await stack.subgraphs.identity.database.dataSource.query(
      `SELECT method, outcome, account_id AS "accountId", detail FROM identity_audit_event WHERE event = 'SIGN_IN' AND detail LIKE '%via=TLS%' ORDER BY occurred_at`,
    )) as { method: string; outcome: string; accountId: string | null; detail: string }[];
    expect(rows).toEqual(
      expect.arrayContaining([
        { method: 'CAC', outcome: 'OK', accountId: 'ac-jane-doe', detail: 'role=PATIENT via=TLS' },
        { method: 'SMART_CARD', outcome: 'CERTIFICATE_REVOKED', accountId: null, detail: 'via=TLS' },
        { method: 'SMART_CARD', outcome: 'CERTIFICATE_EXPIRED', accountId: null, detail: 'via=TLS' },
        { method: 'SMART_CARD', outcome: 'CARD_NOT_REGISTERED', accountId: null, detail: 'via=TLS' },
      ]),
    );
  });

  it('refuses a certificate of a CA it does not trust', async () => {
    const stranger = await issueCard(pki.impostor, { commonName: 'DOE.JANE.A.1000000001' });
    expect(codeOf(await overTls(SIGN_IN, stranger))).toBe('CERTIFICATE_INVALID');
  });

  it('answers CLIENT_CERTIFICATE_REQUIRED without a certificate, and ignores a Client-Cert header from a peer it does not trust', async () => {
    const none = await overTls(SIGN_IN);
    expect(codeOf(none)).toBe('CLIENT_CERTIFICATE_REQUIRED');
    expect(none.data).toBeNull();
    // This gateway trusts no proxy: a client writing the header itself (or the internal one) gets nowhere.
    const forged = await overTls(SIGN_IN, undefined, { 'client-cert': `:${der(jane)}:`, [FORWARDED_CLIENT_CERT_HEADER]: der(jane) });
    expect(codeOf(forged)).toBe('CLIENT_CERTIFICATE_REQUIRED');
  });

  it('serves the rest of the graph to a client without a certificate', async () => {
    const res = await overTls('{ smartCardChallenge { challenge } }');
    expect(res.errors).toBeUndefined();
    expect(typeof res.data.smartCardChallenge.challenge).toBe('string');
  });
});

describe('behind a reverse proxy', () => {
  const viaProxy = (headers: Record<string, string>) => gql(`${proxiedGateway.url}/graphql`, SIGN_IN, {}, undefined, headers);

  it('believes an RFC 9440 Client-Cert header from a trusted proxy', async () => {
    const res = await viaProxy({ 'client-cert': `:${der(jane)}:` });
    expect(res.errors).toBeUndefined();
    expect(res.data.signInWithClientCertificate.account.id).toBe('ac-jane-doe');
  });

  it('believes nginx’s URL-escaped PEM ($ssl_client_escaped_cert), bare or between colons', async () => {
    const escaped = encodeURIComponent(certificatePem(jane));
    for (const value of [escaped, `:${escaped}:`]) {
      const res = await viaProxy({ 'client-cert': value });
      expect(res.errors).toBeUndefined();
      expect(res.data.signInWithClientCertificate.account.id).toBe('ac-jane-doe');
    }
  });

  it('checks the passed-on certificate like any card, and an empty header is no certificate', async () => {
    expect(codeOf(await viaProxy({ 'client-cert': `:${der(revoked)}:` }))).toBe('CERTIFICATE_REVOKED');
    expect(codeOf(await viaProxy({ 'client-cert': '::' }))).toBe('CLIENT_CERTIFICATE_REQUIRED');
    expect(codeOf(await viaProxy({ 'client-cert': ':not base64!:' }))).toBe('CLIENT_CERTIFICATE_REQUIRED');
  });

  it('ignores the header where no CLIENT_CERT_HEADER is set (the default), even from a trusted address', async () => {
    const res = await stack.query(SIGN_IN, {}, undefined);
    expect(codeOf(res)).toBe('CLIENT_CERTIFICATE_REQUIRED');
    const forged = await gql(stack.graphqlUrl, SIGN_IN, {}, undefined, { 'client-cert': `:${der(jane)}:` });
    expect(codeOf(forged)).toBe('CLIENT_CERTIFICATE_REQUIRED');
    expect(forged.data).toBeNull();
  });
});

describe('identity called directly', () => {
  const direct = (headers: Record<string, string>) => gql(stack.subgraphs.identity.graphqlUrl, SIGN_IN, {}, undefined, headers);

  it('refuses the internal certificate header without the gateway’s proof', async () => {
    const requestId = 'direct-caller-1';
    expect(codeOf(await direct({ [FORWARDED_CLIENT_CERT_HEADER]: der(jane) }))).toBe('CLIENT_CERTIFICATE_REQUIRED');
    const wrongSecret = clientCertificateProof('not-the-gateways-secret-not-the-gateways', requestId, der(jane));
    expect(codeOf(await direct({ [REQUEST_ID_HEADER]: requestId, [FORWARDED_CLIENT_CERT_HEADER]: der(jane), [FORWARDED_CLIENT_CERT_PROOF_HEADER]: wrongSecret }))).toBe(
      'CLIENT_CERTIFICATE_REQUIRED',
    );
    // A proof made for another certificate does not lend itself to Jane's.
    const otherProof = clientCertificateProof(TEST_REQUEST_ID_SECRET, requestId, der(unknown));
    expect(codeOf(await direct({ [REQUEST_ID_HEADER]: requestId, [FORWARDED_CLIENT_CERT_HEADER]: der(jane), [FORWARDED_CLIENT_CERT_PROOF_HEADER]: otherProof }))).toBe(
      'CLIENT_CERTIFICATE_REQUIRED',
    );
  });

  it('accepts it with the proof only the holder of REQUEST_ID_SECRET (the gateway) can make', async () => {
    const requestId = 'gateway-made-1';
    const proof = clientCertificateProof(TEST_REQUEST_ID_SECRET, requestId, der(jane));
    const res = await direct({ [REQUEST_ID_HEADER]: requestId, [FORWARDED_CLIENT_CERT_HEADER]: der(jane), [FORWARDED_CLIENT_CERT_PROOF_HEADER]: proof });
    expect(res.errors).toBeUndefined();
    expect(res.data.signInWithClientCertificate.account.id).toBe('ac-jane-doe');
  });
});
