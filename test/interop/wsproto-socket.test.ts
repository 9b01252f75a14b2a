/**
 * wsproto (Debian python3-wsproto) over a real TCP socket against our Node server, with and
 * without its permessage-deflate: test/interop/wsproto_socket_peer.py. (The pipe-based
 * test/interop/wsproto-sansio.test.ts tests the sans-IO core; this one the server on a socket.)
 * Without python3-wsproto the suite is skipped, or fails under WSCORE_REQUIRE_PEERS=1 (CI).
 */
import { afterAll, describe, expect, it } from 'vitest';

import { expectScenariosPassed, expectServerSaw, runPeer, ScenarioServer } from './helpers';
import { describeWithPeer } from './peers';

describeWithPeer('python3-wsproto', 'wsproto on a socket', () => {
  const servers: ScenarioServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  describe.each([
    ['on', true],
    ['off', false],
  ])('permessage-deflate %s', (_label, deflate) => {
    it('a wsproto client on a socket against our server', async () => {
      // threshold 0: every message our side sends is compressed, so wsproto inflates them all.
      const server = await ScenarioServer.start({ perMessageDeflate: deflate ? { threshold: 0 } : false });
      servers.push(server);
      const lines = await runPeer('wsproto_socket_peer.py', [server.url, '--deflate', deflate ? 'on' : 'off']);
      const byName = expectScenariosPassed(lines);
      await expectServerSaw(server, 'wsproto', { deflate, closeReply: 'echo' });
      if (deflate) {
        // 14 messages came back in the messages scenario: all compressed but the two the
        // server sent fragmented (we compress whole messages only, RFC 7692 §6 allows both).
        expect(byName.get('messages')!.compressed_in).toBe(12);
      }
    });
  });
});
