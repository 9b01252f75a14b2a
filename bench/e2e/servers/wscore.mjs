// e2e echo/broadcast server on wscore (dist/cjs, built by `npm run build:ts`). The backend is
// chosen by WSCORE_BACKEND=native|js, which the runner sets. Same behaviour as ws.mjs.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { connectionError, counters, fatal, parseArgs, ready, serveControl } from './common.mjs';

const require = createRequire(import.meta.url);
// WSCORE_E2E_ROOT: another checkout's build (the runner's `wscore-base` server).
const root = process.env.WSCORE_E2E_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const opts = parseArgs();
const wscore = require(path.join(root, 'dist/cjs/index.js'));
if (typeof wscore.WebSocketServer !== 'function') fatal('dist/cjs/index.js has no WebSocketServer');

// threshold 0 (if wscore knows the option): compress every message, like the other servers.
const perMessageDeflate = opts.deflate === 'off' ? false : { threshold: 0 };
const wss = new wscore.WebSocketServer({
  host: opts.host,
  port: opts.port,
  perMessageDeflate,
  maxPayload: opts.maxPayload,
});

// Our own set rather than wss.clients, so a send loop works whatever clientTracking does.
const live = new Set();
const useApi = typeof wss.broadcast === 'function';

wss.on('connection', (ws) => {
  counters.clients++;
  live.add(ws);
  ws.on('close', () => {
    counters.clients--;
    live.delete(ws);
  });
  ws.on('error', connectionError);
  if (opts.mode === 'publish') {
    ws.subscribe('all');
    // wss.publish includes the sender (ws.publish would leave it out), like uWS's app.publish
    ws.on('message', (data, isBinary) => wss.publish('all', data, { binary: isBinary }));
  } else if (opts.mode === 'broadcast') {
    ws.on('message', (data, isBinary) => {
      if (useApi) {
        wss.broadcast(data, { binary: isBinary }); // frames (and compresses) once
      } else {
        for (const client of live) client.send(data, { binary: isBinary });
      }
    });
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});
wss.on('error', fatal);
wss.on('listening', () => {
  const addr = typeof wss.address === 'function' ? wss.address() : null;
  ready(addr?.port ?? opts.port, {
    impl: 'wscore',
    backend: process.env.WSCORE_BACKEND || 'auto',
    broadcast: opts.mode === 'publish' ? 'publish' : opts.mode === 'broadcast' ? (useApi ? 'api' : 'loop') : undefined,
    deflate: opts.deflate,
  });
});
serveControl();
