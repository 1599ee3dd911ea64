import fs from 'node:fs';
import { buildManifest, MANIFEST_FILE, manifestText, sha256 } from './operations';
import { trustedDocuments } from './trustedDocuments';

const manifest = buildManifest();
const portalView = manifest.operations.find((o) => o.name === 'PortalView')!;
const admit = trustedDocuments(manifest);

describe('schema/operations/manifest.json', () => {
  it('is what schema/operations composes to (run `npm run operations:manifest` when this fails)', () => {
    expect(fs.readFileSync(MANIFEST_FILE, 'utf8')).toBe(manifestText(manifest));
  });

  it('names each operation by the sha256 of its normalised text', () => {
    for (const op of manifest.operations) expect(op.id).toBe(sha256(op.body));
    expect(new Set(manifest.operations.map((o) => o.id)).size).toBe(manifest.operations.length);
  });
});

describe('trustedDocuments', () => {
  it('admits a contract operation as sent, however it is formatted, and runs the manifest’s text', () => {
    const sent = `# the portal app\n${portalView.body.replace(/\n\s*/g, ' ')}`;
    expect(admit({ body: { query: sent, variables: {} }, search: '' })).toEqual({ body: { query: portalView.body, variables: {} }, search: '' });
  });

  it('admits a hash alone (Apollo’s persisted-query shape), by POST or GET', () => {
    const extensions = { persistedQuery: { version: 1, sha256Hash: portalView.id } };
    expect(admit({ body: { extensions, operationName: 'PortalView' }, search: '' })).toEqual({ body: { query: portalView.body, operationName: 'PortalView' }, search: '' });
    const get = admit({ body: undefined, search: `?extensions=${encodeURIComponent(JSON.stringify(extensions))}` });
    expect('search' in get && new URLSearchParams(get.search).get('query')).toBe(portalView.body);
  });

  it('refuses any other operation, an unknown hash and a request with neither', () => {
    for (const body of [
      { query: '{ supportContacts { phone } }' },
      { query: `${portalView.body.replace('}', '__typename }')}` },
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __schema { types { name } } }') } } },
      { variables: {} },
    ]) {
      const out = admit({ body, search: '' });
      expect(out).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'OPERATION_NOT_TRUSTED' } }] } });
    }
  });
});
