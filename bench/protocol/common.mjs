// Shared by the protocol benchmarks: loading wscore, building frame streams, timing.
import { createRequire } from 'node:module';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const require = createRequire(import.meta.url);

/**
 * wscore's protocol layer, bundled from src/ with esbuild (a devDependency of vitest) so
 * the benchmark does not depend on the whole package compiling. The bundle lives under
 * node_modules/ so the addon loader still finds the package root above it.
 */
export function loadWscore() {
  const out = path.join(root, 'node_modules', '.cache', 'wscore-bench', 'protocol.cjs');
  if (process.env.WSCORE_BENCH_NO_BUNDLE !== '1') {
    const esbuild = require('esbuild');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    esbuild.buildSync({
      stdin: {
        contents: [
          "export { FrameReader } from './src/protocol/reader';",
          "export { FrameInfo } from './src/protocol/frame-info';",
          "export { FrameWriter } from './src/protocol/frame-writer';",
          "export { FrameProtocol } from './src/protocol/frame-protocol';",
          "export { backendName, jsBackend } from './src/backend';",
        ].join('\n'),
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: out,
      logLevel: 'error',
    });
  }
  return require(out);
}

export const SIZES = [16, 125, 1024, 65536];
export const CHUNK = 64 * 1024;

const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris — café, naïve, 東京, 🚀. ';

/** A payload of exactly `size` bytes: UTF-8 text (mostly ASCII, some multi-byte) or random bytes. */
export function payload(size, text, seed = 0) {
  if (!text) return randomFillSync(Buffer.alloc(size));
  const src = Buffer.from(LOREM.repeat(Math.ceil((size + seed + 8) / LOREM.length) + 1));
  let end = seed % 37;
  const out = Buffer.alloc(size, 0x20);
  // Copy whole characters only, pad with spaces.
  let i = 0;
  while (i < size) {
    const b = src[end];
    const n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    if (i + n > size) break;
    src.copy(out, i, end, end + n);
    i += n;
    end += n;
  }
  return out;
}

/** Frame header bytes (RFC 6455 §5.2). */
export function header(opcode, len, key) {
  const h = [0x80 | opcode];
  const m = key ? 0x80 : 0;
  if (len < 126) h.push(m | len);
  else if (len < 65536) h.push(m | 126, len >> 8, len & 0xff);
  else h.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  if (key) h.push(...key);
  return Buffer.from(h);
}

/**
 * A client-to-server stream (masked, random keys) of single-frame messages of `size`
 * bytes, about `target` bytes long, cut into 64 KiB chunks as a socket would deliver it.
 */
export function clientStream(size, text, target) {
  const count = Math.max(16, Math.floor(target / (size + 8)));
  const payloads = Array.from({ length: 8 }, (_, i) => payload(size, text, i));
  const frames = [];
  for (let i = 0; i < count; i++) {
    const key = randomFillSync(Buffer.alloc(4));
    const p = payloads[i & 7];
    const masked = Buffer.alloc(size);
    for (let j = 0; j < size; j++) masked[j] = p[j] ^ key[j & 3];
    frames.push(header(text ? 1 : 2, size, key), masked);
  }
  const all = Buffer.concat(frames);
  const chunks = [];
  for (let at = 0; at < all.length; at += CHUNK) chunks.push(Buffer.from(all.subarray(at, at + CHUNK)));
  return { count, bytes: all.length, chunks };
}

/** Fresh copies of the chunks (parsers unmask in place). */
export function fresh(chunks) {
  return chunks.map((c) => Buffer.from(c));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median and spread (interquartile range relative to the median). */
export function summarize(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const med = median(s);
  return { median: med, iqr: med === 0 ? 0 : (q(0.75) - q(0.25)) / med };
}
