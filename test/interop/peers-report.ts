/**
 * Vitest global setup: prints the one line naming the missing interop peers (see
 * peer-detect.ts), once per run, at the end where the summary is read.
 */
import { missingPeersLine, PEERS, whyMissing } from './peer-detect';

export default function setup(): () => void {
  // Each vitest project runs the global setup; report once per process.
  if (process.env.WSCORE_PEERS_REPORTED === '1') return () => undefined;
  process.env.WSCORE_PEERS_REPORTED = '1';
  const missing = PEERS.filter((peer) => whyMissing(peer) !== null);
  return () => {
    if (missing.length > 0) process.stderr.write(`\n${missingPeersLine(missing)}\n`);
  };
}
