import type { Progress } from './load';

const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

/** A bar with the rate and the time left on stderr; one line per 5% when stderr is not a terminal. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: Progress) => void {
  let lastShare = -1;
  let base: { at: number; done: number } | null = null;
  return (p) => {
    if (p.phase !== 'patients') {
      if (stream.isTTY) stream.write('\n');
      stream.write(`[seed:synthetic] ${p.phase}${p.phase === 'done' ? ` in ${duration(p.elapsedMs)}, ${p.rows} rows` : '...'}\n`);
      return;
    }
    base ??= { at: p.elapsedMs, done: p.patientsDone };
    const share = p.patientsDone / p.patients;
    const rate = (p.patientsDone - base.done) / Math.max(1, p.elapsedMs - base.at);
    const eta = rate > 0 ? duration((p.patients - p.patientsDone) / rate) : '?';
    const width = 30;
    const filled = Math.round(share * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}% ${p.patientsDone}/${p.patients} patients, ${Math.round((p.rows / Math.max(1, p.elapsedMs)) * 1000)} rows/s, ETA ${eta}`;
    if (stream.isTTY) stream.write(`\r${line}`);
    else if (Math.floor(share * 20) > lastShare) {
      lastShare = Math.floor(share * 20);
      stream.write(`${line}\n`);
    }
  };
}

