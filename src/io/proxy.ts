/**
 * Which proxy a client connection goes through, and the socket it yields. The `proxy`
 * option takes a URL (http:, socks5:, socks5h:; credentials as its userinfo), `true` to read
 * the environment as curl and Python websockets do (ws_proxy / wss_proxy, https_proxy,
 * http_proxy, all_proxy, each also in upper case; no_proxy), or `false`. Without the option
 * the environment is read only when Node's own switch NODE_USE_ENV_PROXY=1 is set, so that
 * code moving from ws keeps connecting directly.
 *
 * The tunnel is made in `createConnection` (Node's http client waits for its callback), so
 * the handshake, TLS to the server (wss:, inside the tunnel), redirects and the handshake
 * timeout work as without a proxy.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

import type { Target } from './client-url';
import { ConnectError, InvalidURLError, ProxyError } from './errors';
import { httpConnect } from './proxy-http';
import { socksConnect } from './proxy-socks';
import type { ProxyConfig } from './proxy-config';


/** What the `proxy` option accepts. */
export type ProxyOption = string | URL | boolean;

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'socks5:': 1080, 'socks5h:': 1080 };

/** Parses a proxy URL (http://user:pass@host:port, socks5://..., socks5h://...). */
export function parseProxy(address: string | URL): ProxyConfig {
  const text = typeof address === 'string' ? address : address.href;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidURLError(`Invalid proxy URL: ${text}`, text);
  }
  const port = DEFAULT_PORTS[url.protocol];
  if (port === undefined) throw new InvalidURLError(`Unsupported proxy scheme "${url.protocol}" (http:, socks5: and socks5h: are supported)`, text);
  let host = url.hostname;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host === '') throw new InvalidURLError(`Invalid proxy URL (no host): ${text}`, text);
  const auth = url.username === '' && url.password === '' ? undefined : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  const kind = url.protocol === 'http:' ? 'http' : 'socks5';
  return { kind, host, port: url.port === '' ? port : Number(url.port), auth, remoteDns: url.protocol !== 'socks5:', href: `${url.protocol}//${url.host}`, headers: [] };
}

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const value = env[name] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The proxy for `target` from the environment, or null: none is set, or no_proxy lists the
 * host. ws: tries ws_proxy, https_proxy, http_proxy; wss: tries wss_proxy, https_proxy
 * (WebSocket tunnels with CONNECT, which is what an https_proxy does); then all_proxy.
 */
export function proxyFromEnv(target: Target, env: Env = process.env): ProxyConfig | null {
  if (bypassed(target.host, target.port, envValue(env, 'no_proxy') ?? '')) return null;
  const names = target.secure ? ['wss_proxy', 'https_proxy', 'all_proxy'] : ['ws_proxy', 'https_proxy', 'http_proxy', 'all_proxy'];
  for (const name of names) {
    const value = envValue(env, name);
    // A bare host:port is an HTTP proxy (curl's reading).
    if (value !== undefined) return parseProxy(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  }
  return null;
}

/**
 * Whether no_proxy lists host:port. Entries are separated by commas or spaces: `*` (every
 * host), a domain (`example.com` and `.example.com` match it and its subdomains), an IP
 * address or a CIDR block (`10.0.0.0/8`, `::1`), each optionally with `:port`.
 */
export function bypassed(host: string, port: number, noProxy: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  for (let entry of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed !== null) {
      entry = bracketed[1]!;
      entryPort = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
    } else if (/^[^:]+:\d+$/.test(entry)) {
      const colon = entry.lastIndexOf(':');
      entryPort = Number(entry.slice(colon + 1));
      entry = entry.slice(0, colon);
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    if (matchesIp(name, entry)) return true;
    const domain = entry.replace(/^\*?\./, '');
    if (domain !== '' && (name === domain || name.endsWith(`.${domain}`))) return true;
  }
  return false;
}

function matchesIp(host: string, entry: string): boolean {
  const family = net.isIP(host);
  if (family === 0) return false;
  const [base = '', bits] = entry.split('/');
  const entryFamily = net.isIP(base);
  if (entryFamily === 0) return false;
  const type = entryFamily === 4 ? 'ipv4' : 'ipv6';
  const list = new net.BlockList();
  if (bits === undefined) list.addAddress(base, type);
  else list.addSubnet(base, Number(bits), type);
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The proxy a connection to `target` uses (null: connect directly). A proxy given by URL is
 * always used; no_proxy applies to the environment's (as in Python websockets). Unix
 * sockets are never proxied.
 */
export function resolveProxy(option: ProxyOption | undefined, target: Target, env: Env = process.env): ProxyConfig | null {
  if (target.socketPath !== undefined || option === false) return null;
  if (option === true || (option === undefined && env.NODE_USE_ENV_PROXY === '1')) return proxyFromEnv(target, env);
  if (option === undefined) return null;
  return parseProxy(option);
}

/** Node's `createConnection` with a callback (http.request waits for it). */
export type CreateConnection = (options: tls.ConnectionOptions & { path?: string; family?: number }, callback: (err: Error | null, socket?: Duplex) => void) => undefined;

/**
 * A `createConnection` that opens a tunnel to `target` through `proxy` (TLS to the server
 * inside it for wss:). `onSocket` gets the socket to the proxy at once, so that an aborted
 * handshake can destroy it while the proxy is still being asked.
 */
export function proxyConnection(proxy: ProxyConfig, target: Target, onSocket: (socket: net.Socket) => void): CreateConnection {
  return (options, callback) => {
    const raw = net.connect({ host: proxy.host, port: proxy.port });
    onSocket(raw);
    const negotiate =
      proxy.kind === 'http'
        ? httpConnect(raw, proxy, target.host, target.port, target.href)
        : // socks5: resolves the name here, as the connection would have (the `family` option).
          socksConnect(raw, proxy, target.host, target.port, target.href, typeof options.family === 'number' ? options.family : 0);
    negotiate.then(
      () => {
        if (!target.secure) {
          callback(null, raw);
          return;
        }
        const o: tls.ConnectionOptions & { path?: string } = { ...options, socket: raw };
        delete o.path;
        callback(null, tls.connect(o));
      },
      (err: Error & { code?: string }) => {
        raw.destroy();
        // The proxy itself could not be reached (or reset us): Node's code, the proxy named.
        callback(err instanceof ConnectError ? err : new ProxyError(`proxy ${proxy.href}: ${err.message}`, err.code ?? 'WS_ERR_PROXY', target.href, proxy.href, { cause: err }));
      },
    );
    return undefined;
  };
}
