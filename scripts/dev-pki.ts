/**
 * Development only: writes the development PKI under DATA_DIR/pki, unless it
 * is there already (identity's demo seed does the same on first start). Delete
 * DATA_DIR/pki to make a new one.
 *   npx tsx scripts/dev-pki.ts
 */
import { readConfig } from '@portal/kit';
import { devCardFiles, ensureDevPki, readDevCards } from '@portal/identity';

async function main() {
  const config = readConfig();
  if (config.production) throw new Error('dev-pki is for development only: production trusts SMARTCARD_CA_FILE.');
  const dir = await ensureDevPki(config.dataDir);
  console.log(`Development PKI in ${dir}`);
  console.log(`  trusted CAs (root, CAC CA, PIV CA): ${dir}/ca.pem`);
  console.log(`  their CRLs (empty, due in ten years): ${dir}/crl.pem`);
  for (const card of readDevCards(config.dataDir)) {
    const files = devCardFiles(config.dataDir, card.name);
    const detail = card.kind === 'PIV' ? `PIV urn:uuid:${card.uuid}` : `CAC ${card.commonName}`;
    console.log(`  ${card.name.padEnd(9)} ${card.holder.padEnd(9)} ${detail} (${card.keyKind}): ${files.certificate}`);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
