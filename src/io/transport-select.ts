/**
 * Which transport a connection runs on (issue 14, docs/transports.md): the `transport`
 * option of WebSocketServer / WebSocket and the `WSCORE_TRANSPORT` environment variable,
 * parsed here and nowhere else, and the choice made once the opening handshake is done.
 *
 * - 'node': always Node's socket (NodeStreamTransport).
 * - 'native': the native transport for every plain TCP socket; the addon's transport must
 *   be available (the js backend, a platform other than Linux or a stale addon is an error
 *   at construction, so a run that asked for native never silently tests Node's).
 * - 'auto' (default): native when available, else Node's.
 * Under every choice a TLS socket or any other Duplex uses Node's: the native transport
 * reads and writes the raw fd, which under TLS carries ciphertext (Node's TLS stack owns
 * the session), and a Duplex that is not a socket has no fd.
 */
import type { Duplex } from 'node:stream';

import { nativeSocketBinding } from '../backend/socket-binding';
import { takeOverSocket, type NativeTransportOptions, type TakeOver } from './native-transport';

export type TransportChoice = 'auto' | 'native' | 'node';

const CHOICES: readonly string[] = ['auto', 'native', 'node'];

/**
 * The effective choice: `WSCORE_TRANSPORT` (when set and non-empty) overrides the option,
 * so that a test run can force one transport for every suite. Throws a TypeError for a
 * value that is not one of the three, and an Error when 'native' is asked for but not
 * available.
 */
export function resolveTransportChoice(option: unknown, env: NodeJS.ProcessEnv = process.env): TransportChoice {
  const forced = env.WSCORE_TRANSPORT;
  let choice: unknown = option ?? 'auto';
  let source = 'the transport option';
  if (forced !== undefined && forced !== '') {
    choice = forced;
    source = 'WSCORE_TRANSPORT';
  }
  if (typeof choice !== 'string' || !CHOICES.includes(choice)) {
    throw new TypeError(`wscore: ${source} must be "auto", "native" or "node", not ${JSON.stringify(choice)}`);
  }
  if (choice === 'native' && nativeSocketBinding() === null) {
    throw new Error(
      `wscore: ${source} is "native" but the native transport is not available ` +
        '(it needs Linux and the native addon, and is not used on the js backend)',
    );
  }
  return choice as TransportChoice;
}

/**
 * Called once the handshake is done, before the connection attaches to its socket. Returns
 * the native transport and the bytes to attach it with (the upgrade `head` plus what Node
 * had buffered), or null: use NodeStreamTransport over `socket` with `head` as they are.
 * On success the Node socket is destroyed (its 'close' fires); on null it is untouched.
 */
export function selectTransport(socket: Duplex, head: Buffer, choice: TransportChoice, options?: NativeTransportOptions): TakeOver | null {
  if (choice === 'node') return null;
  return takeOverSocket(socket, head, options);
}
