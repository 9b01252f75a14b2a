/**
 * A tunnel through an HTTP proxy: CONNECT host:port (RFC 9110 §9.3.6), credentials as
 * Proxy-Authorization Basic (RFC 9110 §11.7.2, RFC 7617). A 2xx answer means the socket now
 * reaches the server; anything else is a {@link ProxyStatusError}.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import { parseResponse } from '../handshake/http11';
import { DEFAULT_HTTP_LIMITS } from '../limits';
import { ProxyError, ProxyStatusError } from './errors';
import type { ProxyConfig } from './proxy-config';
import { readReply } from './proxy-read';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Asks the proxy on `socket` for a tunnel to host:port; resolves once it is open. */
export async function httpConnect(socket: Duplex, proxy: ProxyConfig, host: string, port: number, url: string): Promise<void> {
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  // RFC 9110 §9.3.6: the request target of CONNECT is the authority, and so is Host.
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.auth !== undefined) head += `Proxy-Authorization: Basic ${Buffer.from(`${proxy.auth.username}:${proxy.auth.password}`).toString('base64')}\r\n`;
  for (const [name, value] of proxy.headers) head += `${name}: ${value}\r\n`;
  socket.write(`${head}\r\n`, 'latin1');
  const fail = (message: string, cause?: unknown): ProxyError => new ProxyError(`proxy ${proxy.href}: ${message}`, 'WS_ERR_PROXY', url, proxy.href, { cause });
  const reply = await readReply(
    socket,
    (buffered) => {
      const end = buffered.indexOf(HEAD_END);
      return end === -1 ? -1 : end + HEAD_END.length;
    },
    DEFAULT_HTTP_LIMITS.maxHeaderSize,
    () => fail('the reply to CONNECT is too long'),
    () => new ProxyError(`proxy ${proxy.href} closed the connection before answering CONNECT`, 'WS_ERR_PROXY_CLOSED', url, proxy.href),
  );
  // Only the head is parsed: a 2xx reply to CONNECT has no body (RFC 9110 §9.3.6) and the
  // bytes after it belong to the tunnel; the body of a refusal is not read.
  let parsed;
  try {
    parsed = parseResponse(reply, undefined, true);
  } catch (err) {
    throw fail('malformed reply to CONNECT', err);
  }
  if (!parsed.done) throw fail('malformed reply to CONNECT');
  const response = parsed.value;
  if (response.statusCode >= 200 && response.statusCode < 300) return;
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers.rawItems()) {
    const lower = name.toLowerCase();
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  throw new ProxyStatusError(response.statusCode, response.reasonPhrase, headers, url, proxy.href);
}
