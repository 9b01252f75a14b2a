/**
 * The extension parameters of permessage-deflate (RFC 7692 §7.1): parsing them strictly
 * out of a Sec-WebSocket-Extensions element, and writing them back.
 *
 * §7.1: a server MUST decline an offer, and a client MUST fail the connection on a
 * response, that has an unknown parameter, a parameter with an invalid value, or the same
 * parameter twice; so parsing returns a reason instead of guessing. (undici's
 * CVE-2026-2229 came from accepting a duplicated window-bits parameter.)
 */

/** The four parameters of RFC 7692 §7.1 as one element carries them. */
export interface DeflateParams {
  /** §7.1.1.1: the server will reset its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** §7.1.1.2: the client will reset its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** §7.1.2.1: the server compresses with a window of at most 2^n bytes (8..15). */
  serverMaxWindowBits?: number;
  /**
   * §7.1.2.2: the client compresses with a window of at most 2^n bytes (8..15); `true`:
   * present without a value, allowed in an offer only ("I support this parameter").
   */
  clientMaxWindowBits?: number | true;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** §7.1.2.1 / §7.1.2.2: a decimal integer 8..15 without leading zeroes. */
const WINDOW_BITS = /^(?:[89]|1[0-5])$/;
/** One `name[=value]` with optional whitespace; value a token or a quoted-string (RFC 7230 §3.2.6). */
const PARAM = /^[ \t]*([^ \t=;"]+)[ \t]*(?:=[ \t]*(?:([^ \t;"]+)|"((?:[^"\\]|\\[\t !-~\x80-\xff])*)"))?[ \t]*$/;

/** The same params with no flag and no window bits. */
export function emptyParams(): DeflateParams {
  return { serverNoContextTakeover: false, clientNoContextTakeover: false };
}

/**
 * Parses the parameters of one permessage-deflate element (everything after the name, ""
 * for none). `role` is what the element is: a client's `offer` or a server's `response`
 * (which must give client_max_window_bits a value, §7.1.2.2).
 * @returns the parameters, or a string saying why the element is invalid
 */
export function parseDeflateParams(text: string, role: 'offer' | 'response'): DeflateParams | string {
  const params = emptyParams();
  if (typeof text !== 'string') return 'the parameters are not a string';
  if (text.trim() === '') return params;
  const seen = new Set<string>();
  for (const piece of text.split(';')) {
    const m = PARAM.exec(piece);
    if (m === null || !TOKEN.test(m[1]!)) return `malformed parameter ${JSON.stringify(piece.trim())}`;
    const name = m[1]!;
    // RFC 6455 §9.1: a quoted value must be a token once unquoted.
    const quoted = m[3] === undefined ? undefined : m[3].replace(/\\(.)/g, '$1');
    if (quoted !== undefined && !TOKEN.test(quoted)) return `parameter ${name} has a value that is not a token`;
    if (m[2] !== undefined && !TOKEN.test(m[2])) return `parameter ${name} has a value that is not a token`;
    const value = m[2] ?? quoted;
    if (seen.has(name)) return `parameter ${name} appears more than once`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== undefined) return `parameter ${name} takes no value`;
        if (name === 'server_no_context_takeover') params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === undefined || !WINDOW_BITS.test(value)) return `parameter ${name} needs a value from 8 to 15`;
        params.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        if (value === undefined) {
          if (role === 'response') return `parameter ${name} needs a value in a response`;
          params.clientMaxWindowBits = true;
        } else if (!WINDOW_BITS.test(value)) {
          return `parameter ${name} needs a value from 8 to 15`;
        } else {
          params.clientMaxWindowBits = Number(value);
        }
        break;
      default:
        return `unknown parameter ${name}`;
    }
  }
  return params;
}

/** Writes parameters as an element's parameter list, or `true` when there are none. */
export function formatDeflateParams(p: DeflateParams): string | true {
  const out: string[] = [];
  if (p.serverNoContextTakeover) out.push('server_no_context_takeover');
  if (p.clientNoContextTakeover) out.push('client_no_context_takeover');
  if (p.serverMaxWindowBits !== undefined) out.push(`server_max_window_bits=${p.serverMaxWindowBits}`);
  if (p.clientMaxWindowBits === true) out.push('client_max_window_bits');
  else if (p.clientMaxWindowBits !== undefined) out.push(`client_max_window_bits=${p.clientMaxWindowBits}`);
  return out.length === 0 ? true : out.join('; ');
}

/**
 * Client side, RFC 7692 §7.1: whether a server's response can be the answer to `offer`.
 * The server may add server_no_context_takeover, client_no_context_takeover and
 * server_max_window_bits on its own (§7.1.1.1, §7.1.1.2, §7.1.2.1), but must keep a
 * server_no_context_takeover or server_max_window_bits the offer asked for (or it declined
 * that offer), may lower but not raise an offered server_max_window_bits, and may send
 * client_max_window_bits only if offered, at most the offered value (§7.1.2.2).
 */
export function responseMatchesOffer(response: DeflateParams, offer: DeflateParams): boolean {
  if (offer.serverNoContextTakeover && !response.serverNoContextTakeover) return false;
  if (offer.serverMaxWindowBits !== undefined) {
    if (response.serverMaxWindowBits === undefined || response.serverMaxWindowBits > offer.serverMaxWindowBits) return false;
  }
  if (response.clientMaxWindowBits !== undefined) {
    if (offer.clientMaxWindowBits === undefined) return false;
    if (offer.clientMaxWindowBits !== true && response.clientMaxWindowBits !== true && response.clientMaxWindowBits > offer.clientMaxWindowBits) {
      return false;
    }
  }
  return true;
}
