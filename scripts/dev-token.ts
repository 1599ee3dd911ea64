/**
 * Development only: prints an access token for a demo practitioner, signed
 * with the development key under DATA_DIR, until smart-card sign-in exists.
 *   npx tsx scripts/dev-token.ts alex|sam
 */
import { randomUUID } from 'node:crypto';
import { DEMO, loadSigningKey, readConfig, signAccessToken } from '@portal/kit';

const WHO = {
  alex: { accountId: 'ac-alex-kim', personId: DEMO.alex, role: 'PRACTITIONER', careTeamIds: [DEMO.careTeamBlue] },
  sam: { accountId: 'ac-sam-lee', personId: DEMO.sam, role: 'PHARMACIST', careTeamIds: [] },
} as const;

async function main() {
  const config = readConfig();
  if (config.production) throw new Error('dev-token is for development only.');
  const who = WHO[process.argv[2] as keyof typeof WHO];
  if (!who) throw new Error('usage: dev-token.ts alex|sam');
  const key = await loadSigningKey({ dataDir: config.dataDir, production: false });
  const { token } = await signAccessToken(key, { ...who, careTeamIds: [...who.careTeamIds], method: 'CAC', sessionId: randomUUID() });
  console.log(token);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
