/**
 * Extension negotiation (RFC 6455 §9): the part of the opening handshake that runs
 * over Sec-WebSocket-Extensions, for both sides. The interface is in ../extensions/extension.ts.
 *
 * Extension names are compared exactly (RFC 6455 §9.1 registers them as tokens and gives
 * no case rule; wsproto and python-websockets compare exactly too).
 */
import { isToken } from './datastructures';
import { LocalProtocolError } from '../errors';
import {
  buildExtensionParams,
  type ExtensionHeader,
  type ExtensionParam,
  InvalidHandshakeHeader,
  InvalidHeaderValue,
  parseExtensionParams,
} from './headers';
import type { Extension } from '../extensions/extension';

const HEADER = 'Sec-WebSocket-Extensions';

/** Parameters an extension returned (offer or answer) must parse; if not, it is our bug. */
function localParams(ext: Extension, params: string, what: string): ExtensionParam[] {
  try {
    return parseExtensionParams(params);
  } catch (err) {
    if (err instanceof InvalidHeaderValue) {
      throw new LocalProtocolError(`extension ${ext.name} returned an invalid ${what}: ${err.message}`);
    }
    throw err;
  }
}

function checkName(ext: Extension): void {
  if (!isToken(ext.name)) throw new LocalProtocolError(`extension name ${JSON.stringify(ext.name)} is not a token`);
}

/**
 * Client: the Sec-WebSocket-Extensions elements to send, from each extension's
 * {@link Extension.offers} (fallbacks, RFC 7692 §5) or {@link Extension.offer}, in the
 * order given (RFC 6455 §9.1: the order of preference). An offer of `false` is skipped.
 * @throws LocalProtocolError if two extensions share a name (their answers could not be
 *   told apart) or an extension returns malformed parameters
 */
export function clientOffers(extensions: readonly Extension[]): ExtensionHeader[] {
  const out: ExtensionHeader[] = [];
  const names = new Set<string>();
  for (const ext of extensions) {
    checkName(ext);
    if (names.has(ext.name)) throw new LocalProtocolError(`extension ${ext.name} is listed twice`);
    names.add(ext.name);
    const offers = ext.offers ? ext.offers() : [ext.offer()];
    for (const offer of offers) {
      if (offer === false) continue;
      out.push({ name: ext.name, params: offer === true ? [] : localParams(ext, offer, 'offer') });
    }
  }
  return out;
}

/**
 * Client: applies the server's answer (RFC 6455 §4.1, item 5 of the response checks: "If
 * the response includes a |Sec-WebSocket-Extensions| header field and this header field
 * indicates the use of an extension that was not present in the client's handshake ...,
 * the client MUST _Fail the WebSocket Connection_"). Calls {@link Extension.finalize} of
 * each accepted extension, which throws when the parameters are not acceptable.
 * @param offered the extensions the request was built with
 * @returns the extensions in use, in the server's order (the order they apply, §9.1)
 * @throws InvalidHandshakeHeader if an extension was not offered or is accepted twice
 */
export function clientFinalize(accepted: readonly ExtensionHeader[], offered: readonly Extension[]): Extension[] {
  // A Map keyed by the peer's names: a plain object would answer for "constructor".
  const byName = new Map<string, Extension>();
  for (const ext of offered) byName.set(ext.name, ext);
  const used: Extension[] = [];
  for (const { name, params } of accepted) {
    const ext = byName.get(name);
    if (ext === undefined) throw new InvalidHandshakeHeader(HEADER, name, `the server accepted extension ${JSON.stringify(name)}, which was not offered`);
    if (used.includes(ext)) throw new InvalidHandshakeHeader(HEADER, name, `the server accepted extension ${name} twice`);
    ext.finalize(buildExtensionParams(params));
    used.push(ext);
  }
  return used;
}

/** The result of server-side negotiation. */
export interface NegotiatedExtensions {
  /** The extensions in use, in the order of the client's offers. */
  extensions: Extension[];
  /** The Sec-WebSocket-Extensions elements to answer with (empty: send no header). */
  response: ExtensionHeader[];
}

/**
 * Server: chooses extensions from the client's offers (RFC 6455 §9.1). The offers are tried
 * in the client's order; an offer goes to the first available extension of that name that
 * has not accepted one yet, whose {@link Extension.accept} answers with parameters
 * (`true` = none) or declines (`null` or `false`), in which case a later offer of the same
 * extension (a fallback, RFC 7692 §5) is tried. Each extension accepts at most one offer.
 * @throws LocalProtocolError if an extension answers with malformed parameters
 */
export function serverNegotiate(offers: readonly ExtensionHeader[], available: readonly Extension[]): NegotiatedExtensions {
  const extensions: Extension[] = [];
  const response: ExtensionHeader[] = [];
  const acceptedNames = new Set<string>();
  for (const offer of offers) {
    if (acceptedNames.has(offer.name)) continue;
    const ext = available.find((e) => e.name === offer.name);
    if (ext === undefined) continue;
    const answer = ext.accept(buildExtensionParams(offer.params));
    if (answer === null || answer === false) continue;
    checkName(ext);
    acceptedNames.add(ext.name);
    extensions.push(ext);
    response.push({ name: ext.name, params: answer === true ? [] : localParams(ext, answer, 'answer') });
  }
  return { extensions, response };
}
