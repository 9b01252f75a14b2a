/**
 * The client through proxies: HTTP CONNECT (credentials as Proxy-Authorization Basic, 407,
 * 502) and SOCKS5 (socks5: resolves locally, socks5h: sends the name; RFC 1929 credentials
 * and their refusal; REP codes), the environment (https_proxy, no_proxy, NODE_USE_ENV_PROXY),
 * wss: inside the tunnel, and redirects that go through the proxy again. The proxies are
 * real ones the test starts (test/helpers/proxies.ts).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { connect, isRetryable, ProxyError, ProxyStatusError, SocksError, WebSocket, WebSocketServer } from '../../src/io';
import { bypassed, proxyFromEnv } from '../../src/io/proxy';
import { parseTarget } from '../../src/io/client-url';
import { describeWithPeer } from '../interop/peers';
import { selfSignedCert } from '../helpers/cert';
import { httpConnectProxy, socks5Proxy, type TestProxy } from '../helpers/proxies';
import { cleanup, closeEvent, startServer, track } from './helpers';

afterEach(cleanup);

/** An echo server; records the headers of each upgrade. */
async function echoServer(): Promise<{ port: number; url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const { wss, port, url } = await startServer();
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  return { port, url, seen };
}

async function proxy(kind: 'http' | 'socks5', options: { auth?: string } = {}): Promise<TestProxy> {
  const p = kind === 'http' ? await httpConnectProxy(options) : await socks5Proxy(options);
  track(p);
  return p;
}

/** Echo one message through `ws` (from connect()). */
async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(text);
  return String(await ws.recv());
}

/** The error a connect() fails with. */
async function rejection(url: string, options: Parameters<typeof connect>[1]): Promise<Error> {
  try {
    const ws = track(await connect(url, options));
    throw new Error(`connected to ${ws.url}`);
  } catch (err) {
    return err as Error;
  }
}

/** Runs `body` with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>): void => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  set(vars);
  try {
    return await body();
  } finally {
    set(saved);
  }
}

const ENV_CLEAR = { ws_proxy: undefined, wss_proxy: undefined, https_proxy: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, HTTP_PROXY: undefined, all_proxy: undefined, ALL_PROXY: undefined, no_proxy: undefined, NO_PROXY: undefined, NODE_USE_ENV_PROXY: undefined };

describe('HTTP CONNECT proxy', () => {
  it('tunnels a ws: connection; the proxy sees CONNECT host:port, the server a normal upgrade', async () => {
    const server = await echoServer();
    const p = await proxy('http');
    const ws = track(await connect(server.url, { proxy: `http://127.0.0.1:${p.port}` }));
    expect(await echo(ws, 'through the proxy')).toBe('through the proxy');
    expect(p.seen.map((s) => [s.target, s.headers.host])).toEqual([[`127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]]);
    expect(server.seen[0]!['proxy-authorization']).toBeUndefined();
  });

  it("sends the URL's credentials (percent-decoded) as Proxy-Authorization Basic", async () => {
    const server = await echoServer();
    const p = await proxy('http', { auth: 'us er:p@ss' });
    const ws = track(await connect(server.url, { proxy: `http://us%20er:p%40ss@127.0.0.1:${p.port}/` }));
    expect(await echo(ws, 'authenticated')).toBe('authenticated');
    expect(p.seen[0]!.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('us er:p@ss').toString('base64')}`);
    // The credentials are the proxy's: the server never sees them.
    expect(server.seen[0]!['proxy-authorization']).toBeUndefined();
  });

  it('407 (no or wrong credentials) is a ProxyStatusError, not retried', async () => {
    const server = await echoServer();
    const p = await proxy('http', { auth: 'user:right' });
    for (const proxyUrl of [`http://127.0.0.1:${p.port}`, `http://user:wrong@127.0.0.1:${p.port}`]) {
      const err = await rejection(server.url, { proxy: proxyUrl });
      expect(err).toBeInstanceOf(ProxyStatusError);
      expect([(err as ProxyStatusError).statusCode, (err as ProxyStatusError).code, (err as ProxyStatusError).headers['proxy-authenticate']]).toEqual([407, 'WS_ERR_PROXY_AUTH', 'Basic realm="test"']);
      expect((err as ProxyStatusError).proxy).toBe(`http://127.0.0.1:${p.port}`);
      expect(isRetryable(err)).toBe(false);
    }
  });

  it('502 from the proxy (server down behind it) is retryable; an unreachable proxy is a ProxyError with its code', async () => {
    const { port: deadPort } = await startServer();
    await cleanup(); // the server is gone: its port refuses
    const p2 = await proxy('http');
    const p = await proxy('http');
    await p.close(); // and so is this proxy
    const err = await rejection(`ws://127.0.0.1:${deadPort}/`, { proxy: `http://127.0.0.1:${p2.port}` });
    expect(err).toBeInstanceOf(ProxyStatusError);
    expect([(err as ProxyStatusError).statusCode, isRetryable(err)]).toEqual([502, true]);
    const unreachable = await rejection(`ws://127.0.0.1:${deadPort}/`, { proxy: `http://127.0.0.1:${p.port}` });
    expect(unreachable).toBeInstanceOf(ProxyError);
    expect([(unreachable as ProxyError).code, isRetryable(unreachable)]).toEqual(['ECONNREFUSED', true]);
  });

  it('a proxy that hangs up is a retryable ProxyError (WS_ERR_PROXY_CLOSED); one that answers garbage is not (WS_ERR_PROXY)', async () => {
    const results: Array<[string, string, boolean]> = [];
    for (const answer of [null, 'SSH-2.0-OpenSSH\r\n\r\n']) {
      const fake = track(net.createServer((s) => (answer === null ? s.end() : s.end(answer))));
      fake.listen(0, '127.0.0.1');
      await once(fake, 'listening');
      const err = await rejection('ws://127.0.0.1:1/', { proxy: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
      results.push([err.name, (err as ProxyError).code, isRetryable(err)]);
    }
    expect(results).toEqual([
      ['ProxyError', 'WS_ERR_PROXY_CLOSED', true],
      ['ProxyError', 'WS_ERR_PROXY', false],
    ]);
  });

  it('follows a redirect to another host through the proxy again, dropping credentials (as without a proxy)', async () => {
    const server = await echoServer();
    const redirector = track(http.createServer());
    redirector.on('upgrade', (_req, socket) => socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://localhost:${server.port}/next\r\n\r\n`));
    redirector.listen(0, '127.0.0.1');
    await once(redirector, 'listening');
    const from = (redirector.address() as AddressInfo).port;
    const p = await proxy('http');
    const ws = track(await connect(`ws://user:secret@127.0.0.1:${from}/`, { proxy: `http://127.0.0.1:${p.port}`, followRedirects: true }));
    expect(await echo(ws, 'redirected')).toBe('redirected');
    expect(p.seen.map((s) => s.target)).toEqual([`127.0.0.1:${from}`, `localhost:${server.port}`]);
    expect([ws.url, server.seen[0]!.authorization]).toEqual([`ws://localhost:${server.port}/next`, undefined]);
  });

  it('the proxy option cannot be combined with agent', () => {
    expect(() => new WebSocket('ws://127.0.0.1:1/', { proxy: 'http://127.0.0.1:2', agent: new http.Agent() })).toThrow(TypeError);
    expect(() => new WebSocket('ws://127.0.0.1:1/', { proxy: 'ftp://127.0.0.1:2' })).toThrow(/Unsupported proxy scheme/);
  });
});

describe('SOCKS5 proxy', () => {
  it('socks5: resolves the name here (ATYP IPv4), socks5h: lets the proxy resolve it (ATYP DOMAINNAME)', async () => {
    const server = await echoServer();
    const p = await proxy('socks5');
    for (const scheme of ['socks5', 'socks5h']) {
      const ws = track(await connect(`ws://localhost:${server.port}/`, { proxy: `${scheme}://127.0.0.1:${p.port}`, family: 4 }));
      expect(await echo(ws, scheme)).toBe(scheme);
      ws.close();
    }
    expect(p.seen.map((s) => [s.target, s.atyp])).toEqual([
      [`127.0.0.1:${server.port}`, 1],
      [`localhost:${server.port}`, 3],
    ]);
  });

  it('authenticates with username/password (RFC 1929); refusals are SocksErrors by stage', async () => {
    const server = await echoServer();
    const p = await proxy('socks5', { auth: 'alice:s3cret' });
    const ws = track(await connect(server.url, { proxy: `socks5h://alice:s3cret@127.0.0.1:${p.port}` }));
    expect(await echo(ws, 'socks auth')).toBe('socks auth');
    expect(p.seen.map((s) => s.method)).toEqual([2]);

    const wrong = await rejection(server.url, { proxy: `socks5h://alice:nope@127.0.0.1:${p.port}` });
    expect(wrong).toBeInstanceOf(SocksError);
    expect([(wrong as SocksError).stage, (wrong as SocksError).reply, (wrong as SocksError).code, isRetryable(wrong)]).toEqual(['auth', 1, 'WS_ERR_PROXY_AUTH', false]);

    const none = await rejection(server.url, { proxy: `socks5h://127.0.0.1:${p.port}` });
    expect(none).toBeInstanceOf(SocksError);
    expect([(none as SocksError).stage, (none as SocksError).reply]).toEqual(['method', 0xff]);
  });

  it('a refused CONNECT is a SocksError with the REP code (5: connection refused), retryable', async () => {
    const { port: deadPort } = await startServer();
    await cleanup();
    const p = await proxy('socks5');
    const err = await rejection(`ws://127.0.0.1:${deadPort}/`, { proxy: `socks5://127.0.0.1:${p.port}` });
    expect(err).toBeInstanceOf(SocksError);
    expect([(err as SocksError).stage, (err as SocksError).reply, (err as SocksError).code, isRetryable(err)]).toEqual(['connect', 5, 'WS_ERR_SOCKS_REPLY', true]);
  });

  it('closing the WebSocket while the proxy is being asked ends with 1006 and no open', async () => {
    // A "proxy" that accepts TCP and never answers.
    const silent = track(http.createServer());
    silent.on('connect', () => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const ws = track(new WebSocket('ws://127.0.0.1:1/', { proxy: `socks5h://127.0.0.1:${(silent.address() as AddressInfo).port}` }));
    const events: string[] = [];
    ws.on('open', () => events.push('open'));
    ws.on('error', (err) => events.push(err.message));
    setImmediate(() => ws.close());
    const [code] = await closeEvent(ws);
    expect([...events, code]).toEqual(['WebSocket was closed before the connection was established', 1006]);
  });
});

describe('proxies from the environment', () => {
  it('proxy: true reads https_proxy (also for ws:), and no_proxy bypasses it', async () => {
    const server = await echoServer();
    const p = await proxy('http');
    await withEnv({ ...ENV_CLEAR, https_proxy: `http://127.0.0.1:${p.port}` }, async () => {
      track(await connect(server.url, { proxy: true }));
      // Without the option the environment is not read (as ws).
      track(await connect(server.url));
    });
    expect(p.seen.length).toBe(1);
    await withEnv({ ...ENV_CLEAR, HTTPS_PROXY: `127.0.0.1:${p.port}`, NO_PROXY: `example.com, 127.0.0.0/8` }, async () => {
      track(await connect(server.url, { proxy: true }));
    });
    expect([p.seen.length, server.seen.length]).toEqual([1, 3]);
  });

  it('NODE_USE_ENV_PROXY=1 makes the environment the default; proxy: false still connects directly', async () => {
    const server = await echoServer();
    const p = await proxy('socks5');
    await withEnv({ ...ENV_CLEAR, NODE_USE_ENV_PROXY: '1', ws_proxy: `socks5://127.0.0.1:${p.port}` }, async () => {
      track(await connect(server.url));
      track(await connect(server.url, { proxy: false }));
    });
    expect([p.seen.length, server.seen.length]).toEqual([1, 2]);
  });

  it('picks the variable by scheme: wss_proxy for wss:, http_proxy only for ws:, all_proxy last', () => {
    const env = { wss_proxy: 'http://wss:1', http_proxy: 'http://plain:2', all_proxy: 'socks5h://all:3' };
    const host = (url: string, e: Record<string, string>): string | undefined => proxyFromEnv(parseTarget(url), e)?.host;
    expect([host('wss://a/', env), host('ws://a/', env), host('wss://a/', { http_proxy: 'http://plain:2' }), host('wss://a/', { all_proxy: 'socks5h://all:3' })]).toEqual(['wss', 'plain', undefined, 'all']);
  });

  it('no_proxy: domains and their subdomains, *, ports, IP addresses and CIDR blocks', () => {
    const cases: Array<[string, number, string, boolean]> = [
      ['example.com', 80, 'example.com', true],
      ['api.example.com', 80, '.example.com', true],
      ['api.example.com', 80, '*.example.com', true],
      ['notexample.com', 80, 'example.com', false],
      ['anything', 1, '*', true],
      ['example.com', 8080, 'example.com:8080', true],
      ['example.com', 80, 'example.com:8080', false],
      ['10.1.2.3', 80, '10.0.0.0/8', true],
      ['11.1.2.3', 80, '10.0.0.0/8', false],
      ['::1', 80, '[::1]', true],
      ['fd00::5', 80, 'fd00::/8', true],
      ['host', 80, '', false],
    ];
    expect(cases.map(([h, port, list]) => bypassed(h, port, list))).toEqual(cases.map((c) => c[3]));
  });
});

let cert: { key: Buffer; cert: Buffer } | null = null;
beforeAll(() => {
  cert = selfSignedCert();
});

describeWithPeer('openssl', 'wss: through a proxy (TLS to the server inside the tunnel)', () => {
  it('verifies the server certificate for the server name through HTTP CONNECT and SOCKS5', async () => {
    expect(cert, 'openssl made the test certificate').not.toBeNull();
    const server = track(https.createServer({ key: cert!.key, cert: cert!.cert }));
    const wss = track(new WebSocketServer({ server }));
    const secure: boolean[] = [];
    wss.on('connection', (ws, req) => {
      secure.push(Boolean((req.socket as { encrypted?: boolean }).encrypted));
      ws.on('message', (d) => ws.send(d as Buffer, { binary: false }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    for (const [scheme, p] of [['http', await proxy('http')], ['socks5h', await proxy('socks5')]] as const) {
      const url = `${scheme}://127.0.0.1:${p.port}`;
      const ws = track(await connect(`wss://localhost:${port}/`, { proxy: url, ca: cert!.cert }));
      expect(await echo(ws, 'secret')).toBe('secret');
      ws.close();
      // Without the CA the certificate is refused, proxy or not.
      const err = await rejection(`wss://localhost:${port}/`, { proxy: url });
      expect(err.cause ?? err).toHaveProperty('code', 'DEPTH_ZERO_SELF_SIGNED_CERT');
    }
    expect(secure).toEqual([true, true]);
  });
});

