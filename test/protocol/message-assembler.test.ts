// MessageAssembler: RFC 6455 §5.4 continuation rules, RFC 7692 §6.2 inflation with the
// maxPayload budget, §8.1 incremental UTF-8 (failing on the first bad fragment), and the
// memory policy of collected fragments (small ones copied into runs, docs/security.md).
import { afterAll, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { ParseFailed } from '../../src/errors';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { FrameInfo } from '../../src/protocol/frame-info';
import { deflatePair } from '../helpers/deflate-pair';
import { FRAGMENT_RUN, MessageAssembler, SMALL_FRAGMENT, type MessageInflater } from '../../src/protocol/message-assembler';

afterAll(() => PerMessageDeflate.releaseSharedStreams());

const TEXT = 1;
const BINARY = 2;
const CONT = 0;
const FIN = FrameInfo.FIN;
const RSV1 = FrameInfo.RSV1;

interface Delivered {
  opcode: number;
  data: Uint8Array | Uint8Array[];
  fin: boolean;
}

function record(this: Delivered[], opcode: number, data: Uint8Array | Uint8Array[], fin: boolean): void {
  this.push({ opcode, data, fin });
}

function codeOf(fn: () => void): number | string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParseFailed) return err.closeCode;
    return (err as Error).name;
  }
  return 'no error';
}

/** Text that compresses well, `n` bytes. */
function text(n: number): Buffer {
  return Buffer.from('all work and no play makes jack a dull boy. '.repeat(Math.ceil(n / 44)).slice(0, n));
}

describe(`MessageAssembler: message order, RFC 6455 §5.4 (${backendName})`, () => {
  it('refuses a continuation frame with no message to continue, and a new message inside one (1002)', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true });
    expect(codeOf(() => a.frame(CONT | FIN, Buffer.from('x'), record, out))).toBe(1002);
    a.frame(BINARY, Buffer.from('a'), record, out);
    expect(a.inMessage).toBe(true);
    expect(codeOf(() => a.frame(TEXT | FIN, Buffer.from('b'), record, out))).toBe(1002);
    expect(out).toEqual([]);
  });

  it('takes data frames only', () => {
    const a = new MessageAssembler({ collect: false });
    expect(codeOf(() => a.frame(0x9 | FIN, Buffer.alloc(0), record, []))).toBe('TypeError');
  });

  it('refuses RSV1 when no permessage-deflate was negotiated (1002)', () => {
    const a = new MessageAssembler({ collect: true });
    expect(codeOf(() => a.frame(BINARY | FIN | RSV1, Buffer.from('x'), record, []))).toBe(1002);
  });

  it('streaming: every frame is handed on with its message opcode, FIN on the last', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: false });
    const parts = [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')];
    a.frame(TEXT, parts[0]!, record, out);
    a.frame(CONT, parts[1]!, record, out);
    a.frame(CONT | FIN, parts[2]!, record, out);
    expect(out.map((d) => [d.opcode, d.fin])).toEqual([[TEXT, false], [TEXT, false], [TEXT, true]]);
    out.forEach((d, i) => expect(d.data).toBe(parts[i]));
    expect(a.inMessage).toBe(false);
  });
});

describe(`MessageAssembler: collecting fragments (${backendName})`, () => {
  it('hands a message of one frame on as the same buffer (no copy)', () => {
    const out: Delivered[] = [];
    const payload = Buffer.from('hello');
    new MessageAssembler({ collect: true }).frame(TEXT | FIN | FrameInfo.UTF8_CHECKED, payload, record, out);
    expect(out).toHaveLength(1);
    expect(out[0]!.data).toBe(payload);
  });

  it('concatenates fragments, copying small ones into a run (not keeping views of their chunks)', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 10; i++) a.frame(i === 0 ? BINARY : CONT, chunk.subarray(i * 10, i * 10 + 10), record, out);
    expect(out).toEqual([]);
    a.frame(CONT | FIN, Buffer.from('z'), record, out);
    const data = out[0]!.data as Buffer;
    expect(data.toString()).toBe('a'.repeat(100) + 'z');
    // 101 bytes in one run of FRAGMENT_RUN bytes: the message holds no view of `chunk`.
    expect(data.buffer).not.toBe(chunk.buffer);
    expect(data.buffer.byteLength).toBe(FRAGMENT_RUN);
  });

  it('keeps a large fragment as a view only when it is most of its buffer', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true });
    a.binaryFragments = true;
    const own = Buffer.alloc(SMALL_FRAGMENT, 1); // all of its buffer: kept
    const chunk = Buffer.alloc(8 * SMALL_FRAGMENT, 2);
    const part = chunk.subarray(0, SMALL_FRAGMENT); // an eighth of its chunk: copied
    a.frame(BINARY, own, record, out);
    a.frame(CONT | FIN, part, record, out);
    const fragments = out[0]!.data as Uint8Array[];
    expect(fragments).toHaveLength(2);
    expect(fragments[0]).toBe(own);
    expect(fragments[1]!.buffer).not.toBe(chunk.buffer);
    expect(Buffer.from(fragments[1]!).equals(part)).toBe(true);
  });

  it('binaryFragments: a binary message of several frames as its fragment list; text is always joined', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true });
    a.binaryFragments = true;
    a.frame(BINARY, Buffer.alloc(0), record, out);
    a.frame(CONT | FIN, Buffer.alloc(0), record, out);
    expect(out[0]!.data).toEqual([Buffer.alloc(0)]);
    a.frame(TEXT, Buffer.from('ab'), record, out);
    a.frame(CONT | FIN, Buffer.from('c'), record, out);
    expect(Buffer.from(out[1]!.data as Uint8Array).toString()).toBe('abc');
  });
});

describe(`MessageAssembler: UTF-8, RFC 6455 §8.1 (${backendName})`, () => {
  it('accepts a character split across fragments', () => {
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true });
    const euro = Buffer.from('€');
    a.frame(TEXT, euro.subarray(0, 1), record, out);
    a.frame(CONT, euro.subarray(1, 2), record, out);
    a.frame(CONT | FIN, euro.subarray(2), record, out);
    expect(Buffer.from(out[0]!.data as Uint8Array).toString()).toBe('€');
  });

  it('fails at the first fragment with an invalid byte, before the message ends (1007)', () => {
    const a = new MessageAssembler({ collect: true });
    a.frame(TEXT, Buffer.from('ok'), record, []);
    expect(codeOf(() => a.frame(CONT, Buffer.of(0x61, 0xc0, 0x80), record, []))).toBe(1007);
    // The message is dropped: a new one may start.
    expect(a.inMessage).toBe(false);
  });

  it('fails a text message that ends inside a sequence (1007)', () => {
    const a = new MessageAssembler({ collect: false });
    a.frame(TEXT, Buffer.from('a'), record, []);
    expect(codeOf(() => a.frame(CONT | FIN, Buffer.of(0xe2, 0x82), record, []))).toBe(1007);
  });

  it('trusts frames the parser validated (UTF8_CHECKED) and checks the others', () => {
    const bad = Buffer.of(0xff);
    const out: Delivered[] = [];
    new MessageAssembler({ collect: true }).frame(TEXT | FIN | FrameInfo.UTF8_CHECKED, bad, record, out);
    expect(out[0]!.data).toBe(bad);
    expect(codeOf(() => new MessageAssembler({ collect: true }).frame(TEXT | FIN, bad, record, []))).toBe(1007);
  });
});

describe(`MessageAssembler: permessage-deflate, RFC 7692 §6.2 (${backendName})`, () => {
  it('inflates a compressed message frame by frame', () => {
    const { client, server } = deflatePair();
    const message = text(100_000);
    const compressed = client.compressMessage(message);
    const out: Delivered[] = [];
    const a = new MessageAssembler({ collect: true, inflater: server });
    const third = Math.ceil(compressed.length / 3);
    a.frame(TEXT | RSV1, compressed.subarray(0, third), record, out);
    a.frame(CONT, compressed.subarray(third, 2 * third), record, out);
    a.frame(CONT | FIN, compressed.subarray(2 * third), record, out);
    expect(Buffer.from(out[0]!.data as Uint8Array).equals(message)).toBe(true);
    // A single-frame compressed message, then an uncompressed one, on the same stream.
    a.frame(BINARY | RSV1 | FIN, client.compressMessage(Buffer.from('again')), record, out);
    a.frame(BINARY | FIN, Buffer.from('plain'), record, out);
    expect(out.slice(1).map((d) => Buffer.from(d.data as Uint8Array).toString())).toEqual(['again', 'plain']);
  });

  it('caps the inflated message at maxPayload, across its frames (1009)', () => {
    const { client, server } = deflatePair();
    const compressed = client.compressMessage(Buffer.alloc(50_000));
    const a = new MessageAssembler({ collect: true, maxPayload: 40_000, inflater: server });
    const half = compressed.length >> 1;
    expect(codeOf(() => {
      a.frame(BINARY | RSV1, compressed.subarray(0, half), record, []);
      a.frame(CONT | FIN, compressed.subarray(half), record, []);
    })).toBe(1009);
  });

  it('fails invalid compressed data (1007)', () => {
    const { server } = deflatePair();
    const a = new MessageAssembler({ collect: true, inflater: server });
    expect(codeOf(() => a.frame(BINARY | RSV1 | FIN, Buffer.of(0xff, 0xff, 0xff, 0xff), record, []))).toBe(1007);
  });

  it('validates inflated text incrementally: invalid UTF-8 fails on the frame that inflates it', () => {
    const { client, server } = deflatePair();
    const message = Buffer.concat([Buffer.of(0xff), text(200_000)]);
    const compressed = client.compressMessage(message);
    const a = new MessageAssembler({ collect: true, inflater: server });
    expect(codeOf(() => a.frame(TEXT | RSV1, compressed.subarray(0, compressed.length >> 1), record, []))).toBe(1007);
  });

  it('reset() mid-message gives the inflate stream back: the next message starts clean', () => {
    const calls: string[] = [];
    const { client, server } = deflatePair();
    const spy: MessageInflater = {
      inflateFrame: (data, fin, max) => server.inflateFrame(data, fin, max),
      abortInflate: () => {
        calls.push('abort');
        server.abortInflate();
      },
    };
    const a = new MessageAssembler({ collect: true, inflater: spy });
    const first = client.compressMessage(text(100_000));
    a.frame(TEXT | RSV1, first.subarray(0, 100), record, []);
    a.reset();
    expect(calls).toEqual(['abort']);
    a.reset(); // between messages: nothing to abort
    expect(calls).toEqual(['abort']);
    // The server's stream was reset: it inflates the first message of a fresh compressor.
    const out: Delivered[] = [];
    const fresh = deflatePair().client.compressMessage(Buffer.from('next'));
    a.frame(BINARY | RSV1 | FIN, fresh, record, out);
    expect(Buffer.from(out[0]!.data as Uint8Array).toString()).toBe('next');
  });
});
