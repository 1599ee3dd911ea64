import fs from 'node:fs';
import { fileProblem } from './smartcard/trust';
import { loadSigningKey, publicJwkFromPem, type PortalConfig, type SigningKey } from '@portal/kit';

type JWK = SigningKey['publicJwk'];

/** The key new tokens are signed with, and every public key whose tokens still verify. */
export interface KeyRing {
  signing: SigningKey;
  /** The JWKS: the signing key first, then the keys rotated out. */
  jwks: JWK[];
}

/**
 * Rotation: put the new key in TOKEN_SIGNING_KEY_FILE and the old one in
 * TOKEN_PREVIOUS_KEY_FILES; the old key stays in the JWKS, so tokens it signed
 * keep verifying everywhere until they expire, and then it can be dropped.
 */
export async function loadKeyRing(config: PortalConfig): Promise<KeyRing> {
  const file = config.tokenSigningKeyFile;
  const signing = await named('TOKEN_SIGNING_KEY_FILE', file, () => loadSigningKey({ file, dataDir: config.dataDir, production: config.production }));
  const jwks: JWK[] = [signing.publicJwk];
  for (const file of config.tokenPreviousKeyFiles ?? []) {
    const jwk = await named('TOKEN_PREVIOUS_KEY_FILES', file, async () => publicJwkFromPem(fs.readFileSync(file, 'utf8')));
    if (!jwks.some((k) => k.kid === jwk.kid)) jwks.push(jwk);
  }
  return { signing, jwks };
}

/** A key file named by a setting that is missing or does not parse stops the start with the setting's name. */
async function named<T>(setting: string, file: string | undefined, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (!file) throw e;
    throw new Error(fileProblem(setting, file, e));
  }
}
