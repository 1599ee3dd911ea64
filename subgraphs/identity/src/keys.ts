import fs from 'node:fs';
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
  const signing = await loadSigningKey({ file: config.tokenSigningKeyFile, dataDir: config.dataDir, production: config.production });
  const jwks: JWK[] = [signing.publicJwk];
  for (const file of config.tokenPreviousKeyFiles ?? []) {
    const jwk = await publicJwkFromPem(fs.readFileSync(file, 'utf8'));
    if (!jwks.some((k) => k.kid === jwk.kid)) jwks.push(jwk);
  }
  return { signing, jwks };
}
