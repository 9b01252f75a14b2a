/**
 * websocket-client's `recv_frame()` / `recv_data_frame()` as promises on a live connection:
 * `ws.recvFrame()` and `ws.recvDataFrame()` (src/io/websocket.ts delegates here). They read
 * the raw frames that `rawFrames: true` emits as 'frame' events.
 */
import { ContinuousFrame } from '../frames/continuous-frame';
import { LocalProtocolError } from '../errors';
import { type Frame, Opcode } from '../frames/frame';
import { CLOSED } from './ready-state';
import { kConnection, type TransportConnection } from './transport-connection';
import { ConnectionClosedError } from './message-queue';

/** What these functions need of a WebSocket (structural: no import cycle with websocket.ts). */
export interface FrameSource {
  readonly [kConnection]: TransportConnection;
  on(event: 'frame', listener: (frame: Frame) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
}

interface Waiter {
  resolve(frame: Frame): void;
  reject(err: Error): void;
}

/** The frames received since the first recvFrame() call, and who waits for them. */
class FrameInbox {
  readonly frames: Frame[] = [];
  readonly waiters: Waiter[] = [];
  closed: ConnectionClosedError | null = null;
  /**
   * UTF-8 is not checked again: the connection already checks every text message (and fails
   * it with 1007), and with permessage-deflate raw payloads are still compressed.
   */
  readonly cont = new ContinuousFrame({ skipUtf8Validation: true });

  constructor(source: FrameSource) {
    source.on('frame', (frame) => {
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter.resolve(frame);
      else this.frames.push(frame);
    });
    source.on('close', (code, reason) => this.close(code, reason.toString()));
  }

  close(code: number, reason: string): void {
    this.closed = new ConnectionClosedError(code, reason);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closed);
  }
}

const inboxes = new WeakMap<FrameSource, FrameInbox>();

/**
 * The next frame received (websocket-client's `recv_frame`): data and control frames as on
 * the wire (unmasked; `masked` is true on a server, whose peer must mask, RFC 6455 §5.1).
 * Frames are queued from the first call on. The connection still does its own work with
 * them: answers pings (autoPong), the closing handshake, assembling messages for 'message'.
 * Rejects with LocalProtocolError without the `rawFrames: true` option, and with
 * ConnectionClosedError once the connection is closed and no frame is left.
 */
export function recvFrame(ws: FrameSource): Promise<Frame> {
  const connection = ws[kConnection];
  if (!connection.options.rawFrames) {
    return Promise.reject(new LocalProtocolError('recvFrame() and recvDataFrame() need the rawFrames: true option'));
  }
  let inbox = inboxes.get(ws);
  if (inbox === undefined) {
    inbox = new FrameInbox(ws);
    inboxes.set(ws, inbox);
    if (connection.readyState === CLOSED) {
      const box = inbox;
      return connection.whenClosed().then((info) => {
        box.close(info.code, info.reason);
        throw box.closed;
      });
    }
  }
  const frame = inbox.frames.shift();
  if (frame !== undefined) return Promise.resolve(withMaskBit(connection, frame));
  if (inbox.closed !== null) return Promise.reject(inbox.closed);
  return new Promise<Frame>((resolve, reject) => {
    inbox.waiters.push({ resolve: (f) => resolve(withMaskBit(connection, f)), reject });
  });
}

/** Received frames were masked exactly when we are the server (the parser enforces it, §5.1). */
function withMaskBit(connection: TransportConnection, frame: Frame): Frame {
  frame.masked = connection.isServer;
  return frame;
}

/**
 * The next data message as `[opcode, frame]` (websocket-client's `recv_data_frame`): the
 * fragments of a message are joined into the frame's `data` (ContinuousFrame), the opcode is
 * the message's (TEXT or BINARY). A CLOSE frame is returned as it comes; PING and PONG only
 * with `controlFrame`, else skipped.
 *
 * Deviation: websocket-client answers the ping and the close here; wscore's connection has
 * already done both (autoPong, the closing handshake), so this only reports them.
 */
export async function recvDataFrame(ws: FrameSource, controlFrame = false): Promise<[Opcode, Frame]> {
  for (;;) {
    const frame = await recvFrame(ws);
    switch (frame.opcode) {
      case Opcode.CONT:
      case Opcode.TEXT:
      case Opcode.BINARY: {
        const cont = inboxes.get(ws)!.cont;
        cont.validate(frame);
        cont.add(frame);
        if (cont.isFire(frame)) return cont.extract(frame);
        break;
      }
      case Opcode.CLOSE:
        return [frame.opcode, frame];
      default:
        if (controlFrame) return [frame.opcode, frame];
    }
  }
}
