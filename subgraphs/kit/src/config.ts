import path from 'node:path';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Settings shared by every process, read from the environment in one place. */
export interface PortalConfig {
  production: boolean;
  dataDir: string;
  databaseUrl?: string;
  /** Where subgraphs fetch identity's JWKS and ask care-team access questions. */
  identityUrl: string;
  tokenSigningKeyFile?: string;
  smartcardCaFile?: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(env.DATA_DIR || '.data');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must be a postgres:// URL (unset it to use SQLite files under DATA_DIR).');
  }
  const config: PortalConfig = {
    production,
    dataDir,
    databaseUrl,
    identityUrl: env.IDENTITY_URL || `http://127.0.0.1:${env.IDENTITY_PORT || 4001}`,
    tokenSigningKeyFile: env.TOKEN_SIGNING_KEY_FILE || undefined,
    smartcardCaFile: env.SMARTCARD_CA_FILE || undefined,
  };
  if (production) {
    const missing = [
      !config.tokenSigningKeyFile && 'TOKEN_SIGNING_KEY_FILE',
      !config.smartcardCaFile && 'SMARTCARD_CA_FILE',
    ].filter(Boolean);
    if (missing.length) {
      throw new Error(`NODE_ENV=production refuses to start without ${missing.join(' and ')} set explicitly.`);
    }
  }
  return config;
}
