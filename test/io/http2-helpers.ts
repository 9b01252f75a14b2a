/**
 * Helpers for the WebSocket-over-HTTP/2 tests (RFC 8441; certificates: ../helpers/cert.ts):
 * http2 servers on 127.0.0.1, and a raw HTTP/2 client (Node's own
 * nghttp2) to send extended CONNECTs wscore's client would never send.
 */
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

import type { TestCert } from '../helpers/cert';


/** Listens on 127.0.0.1 and an ephemeral port; resolves with the port. */
export async function listen(server: http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A TLS http2 server that also takes HTTP/1.1 and advertises RFC 8441 (unless told not to). */
export function secureServer(cert: TestCert, enableConnectProtocol = true, onRequest?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): http2.Http2SecureServer {
  const options: http2.SecureServerOptions = { key: cert.key, cert: cert.cert, allowHTTP1: true, settings: { enableConnectProtocol } };
  return onRequest === undefined ? http2.createSecureServer(options) : http2.createSecureServer(options, onRequest);
}

/** What a raw extended CONNECT got back. */
export interface RawAnswer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends one request on a fresh HTTP/2 connection and collects the response (status, header
 * fields and body, or with `whole` false only the head, then the connection is destroyed).
 * `headers` gets :method CONNECT, :protocol websocket, :scheme, :path and :authority unless given.
 */
export async function rawConnect(url: string, headers: http2.OutgoingHttpHeaders, options: http2.SecureClientSessionOptions = {}, whole = true): Promise<RawAnswer> {
  const u = new URL(url);
  const session = http2.connect(`${u.protocol}//${u.host}`, options);
  try {
    await once(session, 'remoteSettings');
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': u.protocol.replace(':', ''),
        ':path': u.pathname + u.search,
        ':authority': u.host,
        ...headers,
      },
      { endStream: false },
    );
    const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader];
    if (!whole) return { status: Number(response[':status']), headers: response, body: '' };
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
    return { status: Number(response[':status']), headers: response, body: Buffer.concat(chunks).toString() };
  } finally {
    session.destroy();
  }
}

/**
 * Something for helpers.ts's track(): closing it closes the server and ends the HTTP/2
 * sessions still open on it (server.close() alone waits for them).
 */
export function closable(server: http2.Http2Server | http2.Http2SecureServer): { close(): Promise<void> } {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      }),
  };
}
