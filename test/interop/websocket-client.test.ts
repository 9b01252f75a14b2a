/**
 * websocket-client (Debian python3-websocket, a synchronous client using its own frame
 * code) against our server over a socket on 127.0.0.1: test/interop/websocket_client_peer.py.
 * It has no permessage-deflate: our server has it on, and must not negotiate it unasked.
 * If /usr/bin/python3 cannot import websocket this FAILS (CI installs it), it never skips.
 */
import { spawnSync } from 'node:child_process';

import { afterAll, expect, it } from 'vitest';

import { expectScenariosPassed, expectServerSaw, PYTHON, runPeer, ScenarioServer } from './helpers';

it('python3-websocket is installed (CI: apt-get install python3-websocket)', () => {
  const r = spawnSync(PYTHON, ['-c', 'import websocket; print(websocket.__version__)'], { encoding: 'utf8' });
  expect(r.error, `cannot run ${PYTHON}`).toBeUndefined();
  expect(r.status, `${PYTHON} cannot import websocket: ${r.stderr}`).toBe(0);
});

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
