// permessage-deflate negotiation as pure functions (RFC 7692 §5, §7.1): offers, the server's
// answer, the client's check of it, and the agreement each end derives.
import { describe, expect, it } from 'vitest';

import { RemoteProtocolError } from '../../src/errors';
import { agreement, answerOffer, checkResponse, offerParams } from '../../src/extensions/permessage-deflate-negotiation';
import { checkOptions } from '../../src/extensions/permessage-deflate-options';
import { formatDeflateParams } from '../../src/extensions/permessage-deflate-params';

describe('permessage-deflate negotiation functions', () => {
  it('offers a fallback without the server-side asks when fallback is on (§5)', () => {
    const offers = offerParams(checkOptions({ serverNoContextTakeover: true, serverMaxWindowBits: 10 })).map(formatDeflateParams);
    expect(offers).toEqual(['server_no_context_takeover; server_max_window_bits=10; client_max_window_bits', 'client_max_window_bits']);
    expect(offerParams(checkOptions({ clientMaxWindowBits: false }))).toHaveLength(1);
  });

  it('server: declines an invalid offer, and a client window value binds even when the response drops it (§7.1.2.2)', () => {
    const opts = checkOptions({ clientMaxWindowBits: false });
    expect(answerOffer(opts, 'client_max_window_bits=99')).toBeNull();
    expect(answerOffer(opts, 'unknown_parameter')).toBeNull();
    const n = answerOffer(opts, 'client_max_window_bits=10')!;
    expect(n.params.clientMaxWindowBits).toBeUndefined();
    expect(n.inflateBits).toBe(10);
    expect(n.deflateBits).toBe(15);
  });

  it('client: refuses a response that answers none of the offers (1002)', () => {
    const opts = checkOptions({ serverNoContextTakeover: true, fallback: false });
    expect(() => checkResponse(opts, '')).toThrow(RemoteProtocolError);
    expect(checkResponse(opts, 'server_no_context_takeover').inflateNct).toBe(true);
  });

  it('the agreement caps our compressor window and decompresses with at least 512 bytes', () => {
    const a = agreement('client', { params: { serverNoContextTakeover: false, clientNoContextTakeover: false }, deflateBits: 15, deflateNct: false, inflateBits: 8, inflateNct: true }, 12);
    expect(a).toMatchObject({ role: 'client', deflateWindowBits: 12, inflateWindowBits: 9, inflateNoContextTakeover: true });
    expect(Object.isFrozen(a)).toBe(true);
  });
});
