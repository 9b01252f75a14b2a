/**
 * The server's bookkeeping of a socket during its opening handshake (RFC 6455 §4.2): the
 * handshake timeout, the error and close listeners, and the mark that it was upgraded. The
 * listeners are shared by every socket and reach their state through symbols on it: a
 * closure per socket would also keep alive everything its scope captured (the request, the
 * head buffer, the negotiation plan) for the connection's whole life.
 */
import type { Duplex } from 'node:stream';

import { TimerEntry } from './timers';

/** Who is told when a socket closes during its handshake (the WebSocketServer). */
export interface HandshakeOwner {
  forgetHandshake(socket: Duplex): void;
}

const kTimer = Symbol('wscore.handshakeTimer');
const kUpgraded = Symbol('wscore.upgraded');
const kHandshakeServer = Symbol('wscore.handshakeServer');
export type HandshakeSocket = Duplex & {
  [kTimer]?: TimerEntry<Duplex> | undefined;
  [kUpgraded]?: boolean;
  [kHandshakeServer]?: HandshakeOwner | undefined;
};

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
function onHandshakeSocketError(this: Duplex): void {
  this.destroy();
}
function onHandshakeSocketClose(this: HandshakeSocket): void {
  this[kTimer]?.cancel();
  this[kHandshakeServer]?.forgetHandshake(this);
}

/** Registers the shared 'close' listener of a socket in its handshake, once. */
function watchHandshakeClose(socket: HandshakeSocket): void {
  if (socket[kTimer] === undefined && socket[kHandshakeServer] === undefined) socket.on('close', onHandshakeSocketClose);
}

/** Destroys `socket` if its handshake is not done within `timeout` ms (0: never). */
export function armHandshakeTimer(socket: HandshakeSocket, timeout: number): void {
  if (timeout <= 0 || socket[kTimer]?.armed) return;
  let timer = socket[kTimer];
  if (timer === undefined) {
    watchHandshakeClose(socket);
    timer = socket[kTimer] = new TimerEntry<Duplex>(socket, destroySocket);
  }
  timer.arm(timeout);
}

/** `owner` handles the upgrade request that came on `socket`. */
export function beginHandshake(socket: HandshakeSocket, owner: HandshakeOwner, timeout: number): void {
  socket.on('error', onHandshakeSocketError);
  armHandshakeTimer(socket, timeout);
  watchHandshakeClose(socket);
  socket[kHandshakeServer] = owner;
}

/** Whether a WebSocketServer handles the upgrade request that came on `socket`. */
export function inHandshake(socket: Duplex): boolean {
  return (socket as HandshakeSocket)[kHandshakeServer] !== undefined;
}

/** Whether `socket` was upgraded already (and marks it so: it is being upgraded now). */
export function wasUpgraded(socket: HandshakeSocket): boolean {
  if (socket[kUpgraded]) return true;
  socket[kUpgraded] = true;
  return false;
}

/** The handshake succeeded: the socket goes to the connection without our listeners. */
export function endHandshake(socket: HandshakeSocket): void {
  socket[kTimer]?.cancel();
  socket.removeListener('error', onHandshakeSocketError);
  socket.removeListener('close', onHandshakeSocketClose);
  socket[kTimer] = undefined;
  socket[kHandshakeServer] = undefined;
}
