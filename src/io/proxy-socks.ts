/**
 * A tunnel through a SOCKS5 proxy (RFC 1928): method negotiation (§3), username/password
 * authentication (RFC 1929), then CONNECT (§4) to the server's address — resolved here for
 * socks5:, sent as a name for the proxy to resolve for socks5h: (ATYP DOMAINNAME, §5).
 */
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import { DNSError, ProxyError, SocksError } from './errors';
import type { ProxyConfig } from './proxy-config';
import { readReply } from './proxy-read';

const VERSION = 0x05;
const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 §6: what each REP value of a failed CONNECT means. */
const REPLIES: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Asks the SOCKS5 proxy on `socket` for a tunnel to host:port; resolves once it is open. */
export async function socksConnect(socket: Duplex, proxy: ProxyConfig, host: string, port: number, url: string, family = 0): Promise<void> {
  const fail = (message: string): ProxyError => new ProxyError(`proxy ${proxy.href}: ${message}`, 'WS_ERR_PROXY', url, proxy.href);
  const read = (length: (buffered: Buffer) => number): Promise<Buffer> =>
    readReply(socket, length, 512, () => fail('reply too long'), () => new ProxyError(`proxy ${proxy.href} closed the connection during the SOCKS5 negotiation`, 'WS_ERR_PROXY_CLOSED', url, proxy.href));
  const fixed = (n: number) => (buffered: Buffer) => (buffered.length >= n ? n : -1);

  // The address first: a name that does not resolve fails before the proxy is bothered.
  const address = await destination(host, proxy.remoteDns, url, family);
  const user = proxy.auth === undefined ? null : Buffer.from(proxy.auth.username);
  const pass = proxy.auth === undefined ? null : Buffer.from(proxy.auth.password);
  // RFC 1929 §2: ULEN and PLEN are one byte each.
  if (user !== null && (user.length > 255 || pass!.length > 255 || user.length === 0)) throw fail('SOCKS5 usernames and passwords are 1-255 bytes (RFC 1929)');

  // §3: offer username/password only when we have credentials (the proxy picks one).
  socket.write(Buffer.from(user === null ? [VERSION, 1, NO_AUTH] : [VERSION, 2, NO_AUTH, USER_PASS]));
  const [version, method] = await read(fixed(2));
  if (version !== VERSION) throw fail(`not a SOCKS5 proxy (version ${version})`);
  if (method === USER_PASS && user !== null) {
    socket.write(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([pass!.length]), pass!]));
    const [, status] = await read(fixed(2));
    // RFC 1929 §2: STATUS 0 is success; anything else and the proxy closes the connection.
    if (status !== 0) throw new SocksError(`proxy ${proxy.href} refused the username/password (status ${status})`, 'auth', status!, url, proxy.href);
  } else if (method !== NO_AUTH) {
    const why = method === NO_ACCEPTABLE ? (user === null ? 'it requires authentication' : 'no offered method was acceptable') : `it chose method ${method}, which was not offered`;
    throw new SocksError(`proxy ${proxy.href} refused: ${why}`, 'method', method!, url, proxy.href);
  }

  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  socket.write(Buffer.concat([Buffer.from([VERSION, CMD_CONNECT, 0x00]), address, portBytes]));
  // §6: VER REP RSV ATYP BND.ADDR BND.PORT — the address's length depends on ATYP.
  const reply = await read((b) => {
    if (b.length < 5) return -1;
    const atyp = b[3];
    const length = atyp === ATYP_IPV4 ? 4 + 4 + 2 : atyp === ATYP_IPV6 ? 4 + 16 + 2 : atyp === ATYP_DOMAIN ? 4 + 1 + b[4]! + 2 : 0;
    if (length === 0) return b.length;
    return b.length >= length ? length : -1;
  });
  if (reply[0] !== VERSION) throw fail(`not a SOCKS5 reply (version ${reply[0]})`);
  const rep = reply[1]!;
  if (rep !== 0) throw new SocksError(`proxy ${proxy.href} could not connect to ${host}:${port}: ${REPLIES[rep] ?? `reply ${rep}`}`, 'connect', rep, url, proxy.href);
  if (![ATYP_IPV4, ATYP_IPV6, ATYP_DOMAIN].includes(reply[3]!)) throw fail(`unknown address type ${reply[3]} in the reply`);
}

/** ATYP and DST.ADDR of the CONNECT request (§5). */
async function destination(host: string, remoteDns: boolean, url: string, family: number): Promise<Buffer> {
  let ip = net.isIP(host) === 0 ? null : host;
  if (ip === null && !remoteDns) {
    try {
      ip = (await lookup(host, { family })).address;
    } catch (err) {
      throw new DNSError(host, (err as { code?: string }).code ?? 'ENOTFOUND', url, err);
    }
  }
  if (ip === null) {
    const name = Buffer.from(host);
    if (name.length > 255) throw new ProxyError(`host name too long for SOCKS5: ${host}`, 'WS_ERR_PROXY', url, '');
    return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
  }
  if (net.isIPv4(ip)) return Buffer.from([ATYP_IPV4, ...ip.split('.').map(Number)]);
  return Buffer.concat([Buffer.from([ATYP_IPV6]), ipv6Bytes(ip)]);
}

/** The 16 bytes of an IPv6 address (with :: expanded and an IPv4 tail handled). */
function ipv6Bytes(ip: string): Buffer {
  const out = Buffer.alloc(16);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
