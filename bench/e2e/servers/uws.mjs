// e2e echo/broadcast server on uWebSockets.js (@btc-vision/uwebsockets.js). Its Linux
// binaries need glibc 2.38 symbols; the runner gives us a patched copy of the addon in
// $WSCORE_UWS_ADDON and LD_PRELOADs the shim that provides them (see ../README.md).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { counters, fatal, parseArgs, ready, serveControl } from './common.mjs';

const require = createRequire(import.meta.url);
const opts = parseArgs();
let uws;
try {
  uws = require(process.env.WSCORE_UWS_ADDON || '@btc-vision/uwebsockets.js');
} catch (err) {
  fatal(`cannot load uWebSockets.js (${err.message}); run it through bench/e2e/run.mjs, which builds the glibc shim`);
}

// Compression: the shared compressor/decompressor is uWS's no-context-takeover mode, the
// dedicated ones keep a context per connection; both compress every message sent with
// compress=true.
const compression =
  opts.deflate === 'off'
    ? uws.DISABLED
    : opts.deflate === 'nctx'
      ? uws.SHARED_COMPRESSOR | uws.SHARED_DECOMPRESSOR
      : uws.DEDICATED_COMPRESSOR | uws.DEDICATED_DECOMPRESSOR;
const compress = opts.deflate !== 'off';
const SEND_DROPPED = 2; // uWS send()/publish() result when the backpressure limit drops it

const app = uws.App();
app.ws('/*', {
  compression,
  maxPayloadLength: opts.maxPayload,
  // uWS drops messages beyond maxBackpressure (default 64 KiB); ws and wscore buffer them.
  // Same behaviour: a large limit, never close on it.
  maxBackpressure: 256 * 1024 * 1024,
  closeOnBackpressureLimit: false,
  idleTimeout: 0, // no idle timeout (ws and wscore have none by default)
  sendPingsAutomatically: false,
  open: (ws) => {
    counters.clients++;
    if (opts.mode === 'broadcast' || opts.mode === 'publish') ws.subscribe('all');
  },
  message: (ws, message, isBinary) => {
    if (opts.mode === 'broadcast' || opts.mode === 'publish') {
      // app.publish reaches every subscriber, the sender included (ws.publish would skip it).
      // Subscribers over maxBackpressure would be skipped: the limit above keeps that away,
      // and the load generator counts any receiver that misses a round.
      app.publish('all', message, isBinary, compress);
    } else if (ws.send(message, isBinary, compress) === SEND_DROPPED) {
      counters.dropped++;
    }
  },
  close: () => {
    counters.clients--;
  },
});
app.listen(opts.host, opts.port, (listenSocket) => {
  if (!listenSocket) fatal(`uWS could not listen on ${opts.host}:${opts.port}`);
  ready(uws.us_socket_local_port(listenSocket), {
    impl: 'uWebSockets.js',
    version: uwsVersion(),
    broadcast: opts.mode === 'broadcast' || opts.mode === 'publish' ? 'publish' : undefined,
    deflate: opts.deflate,
  });
});
serveControl();

function uwsVersion() {
  // the package's "exports" hides package.json from require(); read it from disk
  const dir = path.dirname(require.resolve('@btc-vision/uwebsockets.js'));
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}
