// e2e echo/broadcast server on `ws`. The runner starts it twice: as is (bufferutil for
// masking; on Node >= 18.14 ws validates UTF-8 with buffer.isUtf8 and only falls back to
// utf-8-validate without it), and with WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1 (plain JS).
import { createRequire } from 'node:module';

import { connectionError, counters, fatal, parseArgs, ready, serveControl } from './common.mjs';

const require = createRequire(import.meta.url);
const opts = parseArgs();
const { WebSocketServer } = require('ws');

function canLoad(name) {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

// threshold 0: compress every message, as the other servers do (ws's default skips < 1 KiB).
const perMessageDeflate = opts.deflate === 'off' ? false : { threshold: 0 };
const wss = new WebSocketServer({
  host: opts.host,
  port: opts.port,
  perMessageDeflate,
  maxPayload: opts.maxPayload,
});

wss.on('connection', (ws) => {
  counters.clients++;
  ws.on('close', () => counters.clients--);
  ws.on('error', connectionError);
  if (opts.mode === 'broadcast') {
    // ws has no broadcast primitive: its documented way is a loop over wss.clients.
    ws.on('message', (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary });
    });
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});
wss.on('error', fatal);
wss.on('listening', () =>
  ready(wss.address().port, {
    impl: 'ws',
    version: require('ws/package.json').version,
    bufferutil: !process.env.WS_NO_BUFFER_UTIL && canLoad('bufferutil'),
    utf8validate: !process.env.WS_NO_UTF_8_VALIDATE && canLoad('utf-8-validate'),
    broadcast: opts.mode === 'broadcast' ? 'loop' : undefined,
    deflate: opts.deflate,
  }),
);
serveControl();
