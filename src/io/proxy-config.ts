/**
 * A proxy as the connectors (./proxy-http.ts, ./proxy-socks.ts) take it, parsed by
 * ./proxy.ts from the `proxy` option or the environment.
 */

/** A proxy, parsed from its URL. */
export interface ProxyConfig {
  kind: 'http' | 'socks5';
  host: string;
  port: number;
  auth: { username: string; password: string } | undefined;
  /** socks5h: the proxy resolves the server's name (socks5: resolves it here). */
  remoteDns: boolean;
  /** The proxy's URL without credentials (for messages and errors). */
  href: string;
  /** Extra headers of the CONNECT request (none for now: room for a Proxy-Authorization scheme other than Basic). */
  headers: ReadonlyArray<[string, string]>;
}
