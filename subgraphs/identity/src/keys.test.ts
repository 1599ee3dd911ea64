import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { removeTestDir, testTempDir } from '@portal/kit/testing';
import { loadKeyRing } from './keys';

describe('loadKeyRing: the key files named by settings, read at start', () => {
  let dir: string;
  let key: string;
  beforeAll(() => {
    dir = testTempDir('portal-keys-');
    key = path.join(dir, 'signing.pem');
    fs.writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(() => removeTestDir(dir));

  const config = (over: object) => ({ production: true, dataDir: dir, identityUrl: 'http://127.0.0.1:1', ...over });

  it('loads the signing key and the rotated-out ones into the JWKS', async () => {
    const old = path.join(dir, 'old.pem');
    fs.writeFileSync(old, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const ring = await loadKeyRing(config({ tokenSigningKeyFile: key, tokenPreviousKeyFiles: [old] }));
    expect(ring.jwks.map((k) => k.alg)).toEqual(['ES256', 'EdDSA']);
  });

  it('names TOKEN_SIGNING_KEY_FILE when its file is missing or not a key', async () => {
    await expect(loadKeyRing(config({ tokenSigningKeyFile: path.join(dir, 'none.pem') }))).rejects.toThrow(/^TOKEN_SIGNING_KEY_FILE: cannot use \S+none\.pem \(it does not exist\)\.$/);
    const garbled = path.join(dir, 'garbled.pem');
    fs.writeFileSync(garbled, 'not a key');
    await expect(loadKeyRing(config({ tokenSigningKeyFile: garbled }))).rejects.toThrow(/^TOKEN_SIGNING_KEY_FILE: cannot use \S+garbled\.pem \(/);
  });

  it('names TOKEN_PREVIOUS_KEY_FILES when one of its files is missing or not a key', async () => {
    await expect(loadKeyRing(config({ tokenSigningKeyFile: key, tokenPreviousKeyFiles: [path.join(dir, 'gone.pem')] }))).rejects.toThrow(
      /^TOKEN_PREVIOUS_KEY_FILES: cannot use \S+gone\.pem \(it does not exist\)\.$/,
    );
    const dirAsFile = path.join(dir, 'a-directory');
    fs.mkdirSync(dirAsFile);
    await expect(loadKeyRing(config({ tokenSigningKeyFile: key, tokenPreviousKeyFiles: [dirAsFile] }))).rejects.toThrow(/^TOKEN_PREVIOUS_KEY_FILES: cannot use \S+a-directory \(it is a directory\)\.$/);
  });
});
