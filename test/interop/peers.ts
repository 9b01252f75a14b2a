/**
 * Suites that need an interop peer (a Debian package): see peer-detect.ts for the rules.
 */
import { describe, expect, it } from 'vitest';

import { peerGate, type PeerGate, type PeerName } from './peer-detect';

export * from './peer-detect';

/**
 * `describe(name, body)` for a suite that needs `peer`: skipped when the peer is missing
 * (unless WSCORE_REQUIRE_PEERS=1), and opened by a test that fails when it is missing.
 */
export function describeWithPeer(peer: PeerName, name: string, body: () => void, gate: PeerGate = peerGate(peer)): void {
  describe.skipIf(gate.skip)(`${name} [needs Debian ${peer}]`, () => {
    it(`${peer} is installed (apt-get install ${peer})`, () => {
      expect(gate.missing, `${peer} is missing: ${gate.missing ?? ''}`).toBeNull();
    });
    body();
  });
}
