/**
 * Payloads for cases 12 and 13. Autobahn ships five files (a JSON document, a 512x512
 * grey bitmap, Goethe's Faust as text, an HTML page, a PDF); we generate stand-ins of the
 * same kinds from a fixed seed instead of shipping those files: structured text that
 * compresses well, a smooth image with noise, prose with umlauts, markup, and a mix of text
 * and incompressible streams. Text sets contain multi-byte characters, so fragment and
 * compressed-block boundaries fall inside code points.
 */
import { rng } from '../../helpers/wire';

export interface TestData {
  key: string;
  description: string;
  /** Sent as binary messages (Autobahn's flag; Faust is binary there too). */
  binary: boolean;
  bytes: Buffer;
  /** Text sets: the byte offset of each code point, and the end (messages are cut by characters). */
  charStarts: Uint32Array | null;
}

const SIZE = 192 * 1024;


const WORDS = ['Nacht', 'Geist', 'über', 'Größe', 'Mädchen', 'schön', 'Wissenschaft', 'Himmel', 'Erde', 'Hölle', 'und', 'der', 'die', 'das', 'ich', 'nicht', 'mit', 'wie', 'Gefühl', 'Träume', 'weiß', 'Straße', 'naïve', 'café', 'Ωmega', 'δέλτα', '東京', 'ключ', '😀'];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

function words(r: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pick(r, WORDS));
  return out.join(' ');
}

function untilSize(make: (i: number) => string): string {
  const parts: string[] = [];
  for (let i = 0, size = 0; size < SIZE; i++) {
    parts.push(make(i));
    size += Buffer.byteLength(parts[i]);
  }
  return parts.join('');
}

function json(): string {
  const r = rng(1);
  const records = untilSize((i) =>
    `  {\n    "id": ${i},\n    "name": "${words(r, 2)}",\n    "email": "user${Math.floor(r() * 1e6)}@example.org",\n    "active": ${r() < 0.5},\n` +
    `    "score": ${(r() * 1000).toFixed(3)},\n    "tags": ["${words(r, 1)}", "${words(r, 1)}"],\n    "bio": "${words(r, 12)}"\n  },\n`,
  );
  return `[\n${records}  {}\n]\n`;
}

function html(): string {
  const r = rng(2);
  const body = untilSize(
    (i) =>
      `<div class="row" id="r${i}">\n  <h2>${words(r, 3)}</h2>\n  <p>${words(r, 25)}</p>\n  <table><tr><td>${Math.floor(r() * 1e4)}</td><td>${words(r, 2)}</td></tr></table>\n</div>\n`,
  );
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Test</title></head><body>\n${body}</body></html>\n`;
}

function faust(): Buffer {
  const r = rng(3);
  return Buffer.from(untilSize(() => `${words(r, 3 + Math.floor(r() * 6))},\n`), 'utf8');
}

function bitmap(): Buffer {
  const r = rng(4);
  const w = 512;
  const header = Buffer.alloc(54 + 1024);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(header.length + w * w, 2);
  header.writeUInt32LE(header.length, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(w, 18);
  header.writeInt32LE(w, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(8, 28);
  for (let i = 0; i < 256; i++) header.writeUInt32LE(i * 0x010101, 54 + 4 * i);
  const pixels = Buffer.alloc(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const v = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + 40 * Math.sin((x + y) / 91) + (r() - 0.5) * 24;
      pixels[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return Buffer.concat([header, pixels]);
}

function pdf(): Buffer {
  const r = rng(5);
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let size = 0;
  for (let obj = 1; size < SIZE; obj++) {
    const text = obj % 3 === 0;
    const stream = text ? Buffer.from(`BT /F1 12 Tf 72 720 Td (${words(r, 40)}) Tj ET\n`, 'utf8') : Buffer.from(Array.from({ length: 2048 }, () => Math.floor(r() * 256)));
    const part = Buffer.concat([Buffer.from(`${obj} 0 obj\n<< /Length ${stream.length}${text ? '' : ' /Filter /FlateDecode'} >>\nstream\n`), stream, Buffer.from('\nendstream\nendobj\n')]);
    parts.push(part);
    size += part.length;
  }
  parts.push(Buffer.from('trailer\n<< /Root 1 0 R >>\n%%EOF\n'));
  return Buffer.concat(parts);
}

function textSet(key: string, description: string, s: string): TestData {
  const bytes = Buffer.from(s, 'utf8');
  const starts: number[] = [];
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] & 0xc0) !== 0x80) starts.push(i);
  starts.push(bytes.length);
  return { key, description, binary: false, bytes, charStarts: Uint32Array.from(starts) };
}

function binarySet(key: string, description: string, b: Buffer): TestData {
  return { key, description, binary: true, bytes: b, charStarts: null };
}

let cache: TestData[] | null = null;

/** In Autobahn's order: json_data1, lena512, gutenberg_faust, html_data1, ooms (12.1-12.5). */
export function testData(): TestData[] {
  cache ??= [
    textSet('json', 'Large JSON document (generated)', json()),
    binarySet('bitmap', '512x512 8-bit grey bitmap (generated)', bitmap()),
    binarySet('prose', 'Human-readable German-style prose, UTF-8, sent as binary (generated)', faust()),
    textSet('html', 'Large HTML page (generated)', html()),
    binarySet('pdf', 'PDF-like mix of text and incompressible streams (generated)', pdf()),
  ];
  return cache;
}

/**
 * The next message of a case: `length` units (bytes or characters) from `pointer`, wrapping
 * around the end of the data as Autobahn does. Returns the payload and the new pointer.
 */
export function slice(data: TestData, pointer: number, length: number): [Buffer, number] {
  const starts = data.charStarts;
  const total = starts === null ? data.bytes.length : starts.length - 1;
  const at = (i: number): number => (starts === null ? i : starts[i]);
  const to = (pointer + length) % total;
  const b = to > pointer ? data.bytes.subarray(at(pointer), at(to)) : Buffer.concat([data.bytes.subarray(at(pointer)), data.bytes.subarray(0, at(to))]);
  return [b, to];
}
