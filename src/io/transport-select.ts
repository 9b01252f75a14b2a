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
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { nativeSocketBinding } from '../backend/socket-binding';
import { takeOverSocket, type NativeTransportOptions, type TakeOver } from './native-transport';
import { NodeStreamTransport } from './node-stream-transport';
import type { Transport } from './transport';

export type TransportChoice = 'auto' | 'native' | 'node';

const CHOICES: readonly string[] = ['auto', 'native', 'node'];

function checkChoice(choice: unknown, source: string): asserts choice is TransportChoice {
  if (typeof choice !== 'string' || !CHOICES.includes(choice)) {
    throw new TypeError(`wscore: ${source} must be "auto", "native" or "node", not ${JSON.stringify(choice)}`);
  }
}

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
  // The option is checked even when the variable overrides it: a typo fails in every run.
  checkChoice(choice, source);
  if (forced !== undefined && forced !== '') {
    choice = forced;
    source = 'WSCORE_TRANSPORT';
    checkChoice(choice, source);
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

/**
 * The transport a connection attaches to once its handshake is done (the server before it
 * queues the 101, so that the response leaves through the chosen transport, ahead of every
 * frame; the client after the server's 101 was read): the native one when `choice` allows
 * and the socket can be taken over, else Node's over `socket`. Returns the bytes to attach
 * with (the upgrade head plus what Node had buffered, after a takeover).
 */
export function openTransport(socket: Duplex, head: Buffer, choice: TransportChoice): { transport: Transport; head: Buffer } {
  if (choice !== 'node') {
    // A takeover destroys the socket, and a destroyed net.Socket answers undefined for its
    // local address (Node reads it from the handle): read now, kept as own properties, so
    // that `req.socket.localAddress` / `localPort` (and the remote ones, which Node caches)
    // still work in 'connection' handlers, as with ws.
    const s = socket as Partial<Pick<Socket, 'localAddress' | 'localPort' | 'remoteAddress'>>;
    const { localAddress, localPort } = s;
    void s.remoteAddress;
    const taken = selectTransport(socket, head, choice, { highWaterMark: socket.writableHighWaterMark });
    if (taken !== null) {
      Object.defineProperty(socket, 'localAddress', { value: localAddress, configurable: true });
      Object.defineProperty(socket, 'localPort', { value: localPort, configurable: true });
      return taken;
    }
  }
  return { transport: new NodeStreamTransport(socket), head };
}
