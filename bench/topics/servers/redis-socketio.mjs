// A socket.io 4 server for bench/topics/redis.mjs: `node redis-socketio.mjs <port> <redis url>`,
// with @socket.io/redis-adapter (createAdapter: the classic adapter on PUBLISH/PSUBSCRIBE, the
// one its README starts with) on node-redis v5 clients. Every socket joins room "bench",
// except `?pub=1`, whose "m" events are emitted to the room (io.to(room).emit: local sockets
// at once, the other servers through Redis). WebSocket transport only.
// Prints "ready <port>" once listening; exits on SIGTERM or when stdin ends.
import { createServer } from 'node:http';

import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const [port, url] = process.argv.slice(2);
const pub = createClient({ url });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);
const http = createServer();
const io = new Server(http, { transports: ['websocket'], adapter: createAdapter(pub, sub) });
io.on('connection', (socket) => {
  if (socket.handshake.query.pub === '1') socket.on('m', (data) => io.to('bench').emit('m', data));
  else socket.join('bench');
});
http.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${http.address().port}\n`));
const stop = () => io.close(() => Promise.all([pub.quit(), sub.quit()]).finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.stdin.on('end', stop).resume();
