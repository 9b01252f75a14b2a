// Experiment server, not in the runner's matrix: wscore's connection machinery
// (TransportConnection with its ReceivePath, Sender, FrameReader and NodeStreamTransport, from dist/cjs) behind node's http 'upgrade', with a plain
// EventEmitter as the connection object instead of the WebSocket class, so the process loads
// little of wscore. With --preload client (or wscore) it loads the rest: the pair shows the GC
// regime of docs/benchmarks.md ("Throughput at 1,000 connections"). Echo mode only, no
// permessage-deflate. Run it through bench/e2e/profile.sh like the others, e.g.
//   bench/e2e/profile.sh trace-gc wscore-parts "--mode echo --deflate off [--preload client]" \
//     "--mode throughput --conns 1000 --size 65536 --inflight 1 --duration 3 --warmup 1 --deflate off"
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { connectionError, counters, fatal, parseArgs, ready, serveControl } from './common.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const opts = parseArgs();
if (opts.mode !== 'echo' || opts.deflate !== 'off') fatal('wscore-parts: --mode echo --deflate off only');
const { TransportConnection } = require(path.join(root, 'dist/cjs/io/transport-connection.js'));
const { NodeStreamTransport } = require(path.join(root, 'dist/cjs/io/node-stream-transport.js'));
const { connectionSettings } = require(path.join(root, 'dist/cjs/io/options.js'));

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const options = connectionSettings(Object.freeze({ maxPayload: opts.maxPayload }));
const server = http.createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') return socket.destroy();
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${createHash('sha1').update(key + GUID).digest('base64')}\r\n\r\n`,
  );
  const owner = new EventEmitter();
  const connection = new TransportConnection(owner, options);
  owner.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }, undefined));
  owner.on('error', connectionError);
  owner.on('close', () => counters.clients--);
  counters.clients++;
  connection.attach(new NodeStreamTransport(socket), head, 'server');
});
server.on('error', fatal);
server.listen(opts.port, opts.host, () => ready(server.address().port, { impl: 'wscore-parts', preload: opts.preload }));
serveControl();
