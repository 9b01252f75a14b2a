/**
 * A negotiated permessage-deflate pair without a socket: the client's offer, the server's
 * answer, the client's check of it (RFC 7692 §5, §7.1). `client` compresses for `server`.
 */
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';

export function deflatePair(options: PerMessageDeflateOptions = {}): { client: PerMessageDeflate; server: PerMessageDeflate } {
  const client = new PerMessageDeflate({ threshold: 0, ...options });
  const server = new PerMessageDeflate({ threshold: 0, ...options });
  const offer = client.offer();
  const answer = server.accept(offer === true ? '' : (offer as string));
  if (answer === null || answer === false) throw new Error('permessage-deflate was not agreed');
  client.finalize(answer === true ? '' : answer);
  return { client, server };
}
