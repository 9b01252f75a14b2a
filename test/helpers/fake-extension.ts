/**
 * Test helper: a minimal Extension that records the negotiation calls made on it and
 * leaves frames alone, for the handshake and connection tests.
 */
import { RemoteProtocolError } from '../../src/errors';
import type { Extension } from '../../src/extensions/extension';
import type { RsvBits } from '../../src/frames/rsv';
import type { Opcode } from '../../src/frames/frame';

export interface FakeOptions {
  /** What offer()/offers() return (default: true, the bare name). */
  offers?: Array<string | boolean>;
  /** Server: how to answer an offer (default: accept with no parameters). */
  accept?: (offer: string) => string | boolean | null;
  /** Client: parameters finalize() refuses. */
  refuse?: (response: string) => boolean;
  rsvMask?: number;
}

export class FakeExtension implements Extension {
  readonly rsvMask: number;
  readonly accepted: string[] = [];
  readonly finalized: string[] = [];
  disposed = 0;
  private on = false;

  constructor(
    readonly name: string,
    private readonly opts: FakeOptions = {},
  ) {
    this.rsvMask = opts.rsvMask ?? 0;
  }

  enabled(): boolean {
    return this.on;
  }

  offer(): string | boolean {
    return this.opts.offers?.[0] ?? true;
  }

  offers(): Array<string | boolean> {
    return this.opts.offers ?? [true];
  }

  accept(offer: string): string | boolean | null {
    this.accepted.push(offer);
    const answer = this.opts.accept ? this.opts.accept(offer) : true;
    if (answer !== null && answer !== false) this.on = true;
    return answer;
  }

  finalize(response: string): void {
    this.finalized.push(response);
    if (this.opts.refuse?.(response)) throw new RemoteProtocolError(`${this.name}: unacceptable parameters ${response}`, 1010, 400);
    this.on = true;
  }

  frameInboundHeader(_opcode: Opcode, rsv: RsvBits): RsvBits {
    return rsv;
  }

  frameInboundPayloadData(data: Uint8Array): Uint8Array {
    return data;
  }

  frameInboundComplete(): Uint8Array | null {
    return null;
  }

  frameOutbound(_opcode: Opcode, rsv: RsvBits, data: Uint8Array): { rsv: RsvBits; data: Uint8Array } {
    return { rsv, data };
  }

  dispose(): void {
    this.disposed++;
  }
}
