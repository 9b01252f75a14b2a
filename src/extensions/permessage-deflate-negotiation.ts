/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1): the client's offers, the server's
 * answer to one, the client's check of the answer, and what the two ends then agree on
 * (windows and context takeover of each direction). Pure functions of the options and the
 * parameters; {@link PerMessageDeflate} keeps the agreement and runs the streams.
 */
import { RemoteProtocolError } from '../errors';
import { type DeflateParams, parseDeflateParams, responseMatchesOffer } from './permessage-deflate-params';
import type { NormalizedOptions } from './permessage-deflate-options';

/** What was agreed, from this endpoint's side. */
export interface DeflateAgreement {
  /** Which side this endpoint is. */
  readonly role: 'client' | 'server';
  /** The parameters of the accepted element, as on the wire (the server's response). */
  readonly params: Readonly<DeflateParams>;
  /** Window bits our compressor uses: at most what the peer allows, and at most the cap. */
  readonly deflateWindowBits: number;
  /** Our compressor resets after each message (our *_no_context_takeover, or our choice). */
  readonly deflateNoContextTakeover: boolean;
  /** Window bits our decompressor uses: the peer's window (at least 9, see below). */
  readonly inflateWindowBits: number;
  /** The peer resets after each message, so our decompressor does too. */
  readonly inflateNoContextTakeover: boolean;
}

/** The parameters agreed on and the windows they give each direction, from one end's side. */
export interface Negotiated {
  params: DeflateParams;
  deflateBits: number;
  deflateNct: boolean;
  inflateBits: number;
  inflateNct: boolean;
}

/** Client: the parameters of each offer, most wanted first. */
export function offerParams(o: NormalizedOptions): DeflateParams[] {
  const first: DeflateParams = {
    serverNoContextTakeover: o.serverNoContextTakeover === true,
    clientNoContextTakeover: o.clientNoContextTakeover === true,
    serverMaxWindowBits: typeof o.serverMaxWindowBits === 'number' ? o.serverMaxWindowBits : undefined,
    // Bare client_max_window_bits: "you may limit my window" (§7.1.2.2); false: do not.
    clientMaxWindowBits: typeof o.clientMaxWindowBits === 'number' ? o.clientMaxWindowBits : o.clientMaxWindowBits === false ? undefined : true,
  };
  // §5 fallbacks: if the server declines what we ask of its compressor, still compress.
  const asksServer = first.serverNoContextTakeover || first.serverMaxWindowBits !== undefined;
  if (!o.fallback || !asksServer) return [first];
  return [first, { ...first, serverNoContextTakeover: false, serverMaxWindowBits: undefined }];
}

/**
 * Server: the response to one offer, or null to decline it: it is invalid (unknown or
 * duplicated parameter, bad value: §7.1 says a server MUST decline) or asks for what the
 * options refuse.
 */
export function answerOffer(o: NormalizedOptions, offer: string): Negotiated | null {
  const p = parseDeflateParams(offer, 'offer');
  if (typeof p === 'string') return null;
  if (o.serverNoContextTakeover === false && p.serverNoContextTakeover) return null;
  if (o.serverMaxWindowBits === false && p.serverMaxWindowBits !== undefined) return null;
  // Limiting the client's window needs its support (§7.1.2.2: no parameter, no limit).
  if (typeof o.clientMaxWindowBits === 'number' && p.clientMaxWindowBits === undefined) return null;
  const ownServerBits = typeof o.serverMaxWindowBits === 'number' ? o.serverMaxWindowBits : undefined;
  const offeredClientBits = typeof p.clientMaxWindowBits === 'number' ? p.clientMaxWindowBits : undefined;
  const response: DeflateParams = {
    serverNoContextTakeover: p.serverNoContextTakeover || o.serverNoContextTakeover === true,
    clientNoContextTakeover: p.clientNoContextTakeover || o.clientNoContextTakeover === true,
    // §7.1.2.1: at most what the client asked for; the server may lower it on its own.
    serverMaxWindowBits: p.serverMaxWindowBits === undefined ? ownServerBits : Math.min(p.serverMaxWindowBits, ownServerBits ?? 15),
    clientMaxWindowBits:
      p.clientMaxWindowBits === undefined || o.clientMaxWindowBits === false
        ? undefined
        : typeof o.clientMaxWindowBits === 'number'
          ? Math.min(o.clientMaxWindowBits, offeredClientBits ?? 15)
          : offeredClientBits,
  };
  return {
    params: response,
    deflateBits: response.serverMaxWindowBits ?? 15,
    deflateNct: response.serverNoContextTakeover,
    // A value in the offer binds the client even if the response drops it (§7.1.2.2).
    inflateBits: (response.clientMaxWindowBits as number | undefined) ?? offeredClientBits ?? 15,
    inflateNct: response.clientNoContextTakeover,
  };
}

/**
 * Client: checks the server's response against our offers.
 * @throws RemoteProtocolError (the client must fail the connection, §7.1) if it is invalid
 *   or answers none of them
 */
export function checkResponse(o: NormalizedOptions, response: string): Negotiated {
  const r = parseDeflateParams(response, 'response');
  const fail = (why: string): never => {
    throw new RemoteProtocolError(`permessage-deflate: the server's response is not acceptable: ${why} (RFC 7692 §7.1)`, 1002);
  };
  if (typeof r === 'string') return fail(r);
  if (r.clientNoContextTakeover && o.clientNoContextTakeover === false) fail('client_no_context_takeover was refused');
  if (!offerParams(o).some((offer) => responseMatchesOffer(r, offer))) fail('it answers none of the offers');
  const ownBits = typeof o.clientMaxWindowBits === 'number' ? o.clientMaxWindowBits : 15;
  return {
    params: r,
    deflateBits: Math.min((r.clientMaxWindowBits as number | undefined) ?? 15, ownBits),
    deflateNct: r.clientNoContextTakeover || o.clientNoContextTakeover === true,
    inflateBits: r.serverMaxWindowBits ?? 15,
    inflateNct: r.serverNoContextTakeover,
  };
}

/** The agreement of one end, frozen; `compressorWindowBits` caps our compressor's window. */
export function agreement(role: 'client' | 'server', n: Negotiated, compressorWindowBits: number): DeflateAgreement {
  return Object.freeze({
    role,
    params: Object.freeze({ ...n.params }),
    // A window limit is a maximum (§7.1.2): compressing with a smaller one is always
    // valid, and the cap (default 12) halves memory for about the same ratio
    // (docs/benchmarks.md, "permessage-deflate").
    deflateWindowBits: Math.min(n.deflateBits, compressorWindowBits),
    deflateNoContextTakeover: n.deflateNct,
    // zlib's compressor cannot make a 256-byte window and uses 512 bytes instead; its
    // matches still stay within 256 bytes, but a peer's compressor built otherwise may
    // not. Decompressing with 512 accepts both, for 256 bytes of memory.
    inflateWindowBits: Math.max(n.inflateBits, 9),
    inflateNoContextTakeover: n.inflateNct,
  });
}
