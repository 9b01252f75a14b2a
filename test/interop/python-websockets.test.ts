/**
 * Python websockets (Debian python3-websockets) against wscore over real sockets on
 * 127.0.0.1, both directions: its client against our server, our client against its
 * server, with and without permessage-deflate (its parameter matrix is in
 * permessage-deflate-matrix.test.ts).
 * The peer is test/interop/websockets_peer.py. Without python3-websockets the suite is
 * skipped, or fails under WSCORE_REQUIRE_PEERS=1 (CI): see peers.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { runClientScenarios } from './client-scenarios';
import {
  CLIENT_SCENARIOS,
  expectScenariosPassed,
  expectServerSaw,
  runPeer,
  ScenarioServer,
  startPythonServer,
  type PeerLine,
  type PythonPeer,
} from './helpers';
import { describeWithPeer } from './peers';

describeWithPeer('python3-websockets', 'Python websockets', () => {
  const PEER = 'websockets_peer.py';
  const SCENARIOS = CLIENT_SCENARIOS;

  const servers: ScenarioServer[] = [];
  const peers: PythonPeer[] = [];
  afterAll(async () => {
    for (const p of peers) p.kill();
    await Promise.all(servers.map((s) => s.close()));
  });

  describe.each([
    ['on', true],
    ['off', false],
  ])('permessage-deflate %s', (_label, deflate) => {
    it('a websockets client against our server', async () => {
      // threshold 0: every message our side sends is compressed, so the peer decodes them all.
      const server = await ScenarioServer.start({ perMessageDeflate: deflate ? { threshold: 0 } : false });
      servers.push(server);
      const lines = await runPeer(PEER, ['client', server.url, '--deflate', deflate ? 'on' : 'off']);
      const byName = expectScenariosPassed(lines);
      await expectServerSaw(server, 'websockets', { deflate, closeReply: 'echo' });
      if (deflate) {
        const agreed = byName.get('messages')!.agreed as Record<string, number>;
        expect(agreed.compressed_in, 'messages websockets received compressed').toBeGreaterThanOrEqual(12);
      }
    });

    it('our client against a websockets server', async () => {
      const { peer, url } = await startPythonServer(PEER, ['server', '--config', JSON.stringify({ factory: deflate ? {} : null })]);
      peers.push(peer);
      const result = await runClientScenarios(url, { perMessageDeflate: deflate ? { threshold: 0 } : false });
      // The peer reports each connection when its handler ends, which may be just after our
      // side saw the close: wait for every report before stopping it.
      const closed = new Map<string, PeerLine>();
      for (const s of SCENARIOS) {
        const path = `/wscore/${s}`;
        closed.set(path, await peer.waitFor((l) => l.event === 'closed' && l.path === path, 10_000, `the report of ${path}`));
      }
      const { code } = await peer.finish();
      expect(code, peer.report()).toBe(0);
      expect(closed.get('/wscore/messages')!.close_code).toBe(1000);
      expect(closed.get('/wscore/client-close')).toMatchObject({ close_code: 4000, close_reason: 'client bye' });
      expect(closed.get('/wscore/server-close')).toMatchObject({ close_code: 4001, close_reason: 'server bye' });
      expect(closed.get('/wscore/server-going-away')).toMatchObject({ close_code: 1001, close_reason: 'going away' });
      if (deflate) {
        expect(result.extensions).toMatch(/^permessage-deflate/);
        expect(result.compressedFrames).toBeGreaterThanOrEqual(12);
        const agreed = closed.get('/wscore/messages')!.agreed as Record<string, number>;
        expect(agreed.compressed_in, 'messages websockets received compressed').toBeGreaterThanOrEqual(12);
      } else {
        expect(result.extensions).toBe('');
        expect(result.compressedFrames).toBe(0);
      }
    });
  });
});
