/**
 * websocket-client (Debian python3-websocket, a synchronous client using its own frame
 * code) against our server over a socket on 127.0.0.1: test/interop/websocket_client_peer.py.
 * It has no permessage-deflate: our server has it on, and must not negotiate it unasked.
 * Without python3-websocket the suite is skipped, or fails under WSCORE_REQUIRE_PEERS=1 (CI).
 */
import { afterAll, expect, it } from 'vitest';

import { expectScenariosPassed, expectServerSaw, runPeer, ScenarioServer } from './helpers';
import { describeWithPeer } from './peers';

describeWithPeer('python3-websocket', 'websocket-client', () => {
  let server: ScenarioServer | null = null;
  afterAll(() => server?.close());

  it('a websocket-client client against our server', async () => {
    server = await ScenarioServer.start({ perMessageDeflate: true });
    const lines = await runPeer('websocket_client_peer.py', [server.url]);
    const byName = expectScenariosPassed(lines);
    expect(byName.get('messages')!.extensions).toBeNull();
    // websocket-client answers a close frame with 1000 whatever code it received.
    await expectServerSaw(server, 'websocket-client', { deflate: false, closeReply: 1000 });
  });
});
