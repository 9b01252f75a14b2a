/**
 * Minimal proxies for the client tests, written on node:net / node:http: an HTTP CONNECT
 * proxy (RFC 9110 §9.3.6) and a SOCKS5 proxy (RFC 1928, username/password RFC 1929). Each
 * records what it was asked, can require credentials, and tunnels to the real target.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A running test proxy. */
export interface TestProxy {
  port: number;
  /** What each client asked for: the CONNECT target ("host:port") and the request headers. */
  seen: Array<{ target: string; headers: http.IncomingHttpHeaders; atyp?: number; method?: number }>;
  close(): Promise<void>;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function tunnel(client: net.Socket, host: string, port: number, onOpen: () => void, onFail: () => void, sockets: Set<net.Socket>): void {
  const upstream = net.connect(port, host);
  sockets.add(upstream);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    onOpen();
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => (connected ? client.destroy() : onFail()));
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => connected && client.destroy());
}

/** An HTTP proxy answering CONNECT; with `auth` ("user:pass") it wants Proxy-Authorization Basic. */
export async function httpConnectProxy(options: { auth?: string } = {}): Promise<TestProxy> {
  const seen: TestProxy['seen'] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    seen.push({ target, headers: req.headers });
    if (options.auth !== undefined && req.headers['proxy-authorization'] !== `Basic ${Buffer.from(options.auth).toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    tunnel(
      client,
      host,
      Number(target.slice(colon + 1)),
      () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) client.unshift(head);
      },
      () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'),
      sockets,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen, close: closer(server, sockets) };
}

/** Reads exactly `n` bytes from a socket in paused mode. */
async function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(n) as Buffer | null;
    if (chunk !== null) return chunk;
    if (socket.destroyed || socket.readableEnded) throw new Error('closed');
    await once(socket, 'readable');
  }
}

/** A SOCKS5 proxy; with `auth` ("user:pass") it only accepts method 0x02 (RFC 1929). */
export async function socks5Proxy(options: { auth?: string } = {}): Promise<TestProxy> {
  const seen: TestProxy['seen'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    void negotiate(client).catch(() => client.destroy());
  });
  const negotiate = async (client: net.Socket): Promise<void> => {
    const [version, count] = await readBytes(client, 2);
    if (version !== 5) throw new Error('not socks5');
    const methods = [...(await readBytes(client, count!))];
    const wanted = options.auth === undefined ? 0x00 : 0x02;
    if (!methods.includes(wanted)) {
      client.end(Buffer.from([5, 0xff]));
      return;
    }
    client.write(Buffer.from([5, wanted]));
    if (wanted === 0x02) {
      const [, ulen] = await readBytes(client, 2);
      const user = (await readBytes(client, ulen!)).toString();
      const [plen] = await readBytes(client, 1);
      const pass = (await readBytes(client, plen!)).toString();
      if (`${user}:${pass}` !== options.auth) {
        client.end(Buffer.from([1, 1]));
        return;
      }
      client.write(Buffer.from([1, 0]));
    }
    const [, cmd, , atyp] = await readBytes(client, 4);
    let host: string;
    if (atyp === 1) host = [...(await readBytes(client, 4))].join('.');
    else if (atyp === 3) host = (await readBytes(client, (await readBytes(client, 1))[0]!)).toString();
    else {
      const b = await readBytes(client, 16);
      host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
    }
    const port = (await readBytes(client, 2)).readUInt16BE(0);
    seen.push({ target: `${host}:${port}`, headers: {}, atyp, method: wanted });
    const reply = (rep: number): Buffer => Buffer.from([5, rep, 0, 1, 127, 0, 0, 1, 0, 0]);
    if (cmd !== 1) {
      client.end(reply(7));
      return;
    }
    tunnel(client, host, port, () => client.write(reply(0)), () => client.end(reply(5)), sockets);
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen, close: closer(server, sockets) };
}
