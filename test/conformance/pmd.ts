/**
 * permessage-deflate (RFC 7692) for the fuzzer side of cases 12 and 13: the client offers
 * and server accept rules Autobahn uses, the negotiated parameters, and a compressor and
 * decompressor (pako, so the runner does not share zlib bindings with the native backend).
 */
import pako from 'pako';

/** A client's offer, in Autobahn's terms (what the client accepts and what it requests). */
export interface DeflateOffer {
  /** The client lets the server demand client_no_context_takeover (§7.1.1.2). */
  acceptNoContextTakeover: boolean;
  /** The client lets the server limit its window: bare client_max_window_bits (§7.1.2.2). */
  acceptMaxWindowBits: boolean;
  /** server_no_context_takeover (§7.1.1.1). */
  requestNoContextTakeover: boolean;
  /** server_max_window_bits=N, 0 for none (§7.1.2.1). */
  requestMaxWindowBits: number;
}

/** What a server answers to one offer. */
export interface DeflateAccept {
  offer: DeflateOffer;
  /** client_no_context_takeover in the response. */
  requestNoContextTakeover: boolean;
  /** client_max_window_bits=N in the response, 0 for none. */
  requestMaxWindowBits: number;
}

/** The agreed parameters of one connection. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** Autobahn's default offer: accepts both client parameters, requests nothing. */
export function offer(requestNoContextTakeover = false, requestMaxWindowBits = 0): DeflateOffer {
  return { acceptNoContextTakeover: true, acceptMaxWindowBits: true, requestNoContextTakeover, requestMaxWindowBits };
}

export function offerHeader(o: DeflateOffer): string {
  let s = 'permessage-deflate';
  if (o.acceptNoContextTakeover) s += '; client_no_context_takeover';
  if (o.acceptMaxWindowBits) s += '; client_max_window_bits';
  if (o.requestNoContextTakeover) s += '; server_no_context_takeover';
  if (o.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${o.requestMaxWindowBits}`;
  return s;
}

export function acceptHeader(a: DeflateAccept): string {
  let s = 'permessage-deflate';
  if (a.offer.requestNoContextTakeover) s += '; server_no_context_takeover';
  if (a.offer.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${a.offer.requestMaxWindowBits}`;
  if (a.requestNoContextTakeover) s += '; client_no_context_takeover';
  if (a.requestMaxWindowBits !== 0) s += `; client_max_window_bits=${a.requestMaxWindowBits}`;
  return s;
}

export function acceptedParams(a: DeflateAccept): DeflateParams {
  return {
    serverNoContextTakeover: a.offer.requestNoContextTakeover,
    clientNoContextTakeover: a.requestNoContextTakeover,
    serverMaxWindowBits: a.offer.requestMaxWindowBits || 15,
    clientMaxWindowBits: a.requestMaxWindowBits || 15,
  };
}

/** Splits a Sec-WebSocket-Extensions value into [name, params] (quoted values unquoted). */
export function parseExtensions(header: string): Array<[string, Map<string, string | true>]> {
  const out: Array<[string, Map<string, string | true>]> = [];
  for (const ext of header.split(',')) {
    const parts = ext.split(';').map((p) => p.trim());
    if (parts[0] === '') continue;
    const params = new Map<string, string | true>();
    for (const p of parts.slice(1)) {
      const eq = p.indexOf('=');
      if (eq < 0) params.set(p, true);
      else params.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    out.push([parts[0].toLowerCase(), params]);
  }
  return out;
}

function windowBits(v: string | true | undefined): number | null {
  if (v === undefined || v === true) return null;
  const n = Number(v);
  return /^\d+$/.test(v) && n >= 8 && n <= 15 ? n : Number.NaN;
}

/**
 * A testee client's offers as Autobahn's server reads them. Note Autobahn's quirk, kept on
 * purpose: an offer always counts as accepting client_no_context_takeover (RFC 7692
 * §7.1.1.2 lets a server demand it anyway). Invalid offers are skipped.
 */
export function parseOffers(header: string | undefined): DeflateOffer[] {
  if (header === undefined) return [];
  const out: DeflateOffer[] = [];
  for (const [name, params] of parseExtensions(header)) {
    if (name !== 'permessage-deflate') continue;
    const o = offer();
    o.acceptMaxWindowBits = false;
    let ok = true;
    for (const [k, v] of params) {
      if (k === 'client_max_window_bits') {
        const n = windowBits(v);
        if (Number.isNaN(n)) ok = false;
        o.acceptMaxWindowBits = true;
      } else if (k === 'client_no_context_takeover' && v === true) o.acceptNoContextTakeover = true;
      else if (k === 'server_no_context_takeover' && v === true) o.requestNoContextTakeover = true;
      else if (k === 'server_max_window_bits') {
        const n = windowBits(v);
        if (n === null || Number.isNaN(n)) ok = false;
        else o.requestMaxWindowBits = n;
      } else ok = false;
    }
    if (ok) out.push(o);
  }
  return out;
}

/**
 * A testee server's response, checked against our offers (§7.1: a response must answer
 * an offer; unknown or repeated parameters fail the connection). Returns the parameters, or
 * an error string.
 */
export function parseResponse(header: string, offers: DeflateOffer[]): DeflateParams | string {
  const exts = parseExtensions(header);
  if (exts.length !== 1 || exts[0][0] !== 'permessage-deflate') return `unexpected extensions "${header}"`;
  const p: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  for (const [k, v] of exts[0][1]) {
    if (k === 'server_no_context_takeover' && v === true) p.serverNoContextTakeover = true;
    else if (k === 'client_no_context_takeover' && v === true) p.clientNoContextTakeover = true;
    else if (k === 'server_max_window_bits' || k === 'client_max_window_bits') {
      const n = windowBits(v);
      if (n === null || Number.isNaN(n)) return `bad ${k} in "${header}"`;
      if (k === 'server_max_window_bits') p.serverMaxWindowBits = n;
      else p.clientMaxWindowBits = n;
    } else return `unknown parameter ${k} in "${header}"`;
  }
  const fits = offers.some(
    (o) =>
      (!p.clientNoContextTakeover || o.acceptNoContextTakeover) &&
      (p.clientMaxWindowBits === 15 || o.acceptMaxWindowBits) &&
      (!o.requestNoContextTakeover || p.serverNoContextTakeover) &&
      (o.requestMaxWindowBits === 0 || p.serverMaxWindowBits <= o.requestMaxWindowBits),
  );
  return fits ? p : `response "${header}" answers none of the offers`;
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function collect(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

/** One direction's compressor (§7.2.1): sync-flushed, the 4-byte tail removed. */
export class Compressor {
  private deflate: pako.Deflate | null = null;
  private out: Uint8Array[] = [];

  constructor(private readonly noContextTakeover: boolean, private readonly windowBits: number) {}

  compress(data: Buffer): Buffer {
    if (this.deflate === null || this.noContextTakeover) {
      // zlib cannot write raw deflate with an 8-bit window; 9 would exceed the limit, so
      // a peer allowing only 2^8 gets stored (uncompressed) blocks.
      const level = this.windowBits < 9 ? 0 : 6;
      this.deflate = new pako.Deflate({ raw: true, windowBits: Math.max(9, this.windowBits), level, memLevel: 8 });
      this.deflate.onData = (chunk) => this.out.push(chunk as Uint8Array);
    }
    this.out = [];
    this.deflate.push(data, pako.constants.Z_SYNC_FLUSH);
    const all = collect(this.out);
    return all.length >= 4 && all.subarray(all.length - 4).equals(TAIL) ? all.subarray(0, all.length - 4) : all;
  }
}

/** One direction's decompressor (§7.2.2); the window limit is enforced as zlib does. */
export class Decompressor {
  private inflate: pako.Inflate | null = null;
  private out: Uint8Array[] = [];

  constructor(private readonly noContextTakeover: boolean, private readonly windowBits: number) {}

  /** The message, or an error string (corrupt data, or a distance beyond the window). */
  decompress(data: Buffer): Buffer | string {
    if (this.inflate === null || this.noContextTakeover) {
      this.inflate = new pako.Inflate({ raw: true, windowBits: this.windowBits });
      this.inflate.onData = (chunk) => this.out.push(chunk as Uint8Array);
    }
    this.out = [];
    this.inflate.push(Buffer.concat([data, TAIL]), pako.constants.Z_SYNC_FLUSH);
    if (this.inflate.err !== 0) return `inflate failed: ${this.inflate.msg || String(this.inflate.err)}`;
    return collect(this.out);
  }
}
