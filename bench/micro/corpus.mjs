// Deterministic UTF-8 corpora for bench/micro: the same bytes on every run and machine.
//   ascii  - English-like ASCII text
//   mixed  - Latin with accents (2-byte), Greek/Cyrillic, and CJK runs (3-byte)
//   emoji  - mostly 4-byte emoji with spaces and a little ASCII

function prng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pick = (rand, list) => list[Math.floor(rand() * list.length)];

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'socket', 'frame', 'message', 'price', 'order', 'update'];
const LATIN = ['café', 'naïve', 'straße', 'über', 'señor', 'déjà', 'façade', 'smörgåsbord', 'Ελληνικά', 'Привет', 'żółw'];
const CJK = ['日本語のテキスト', '中文消息', '한국어', '価格更新', '注文'];
const EMOJI = ['😀', '🎉', '👍🏽', '🚀', '❤️', '🔥', '🇫🇷', '👨‍👩‍👧', '🐍', '📈'];

function build(kind, rand, approxBytes) {
  const parts = [];
  let size = 0;
  while (size < approxBytes) {
    let w;
    if (kind === 'ascii') w = pick(rand, WORDS);
    else if (kind === 'mixed') {
      const r = rand();
      w = r < 0.5 ? pick(rand, WORDS) : r < 0.8 ? pick(rand, LATIN) : pick(rand, CJK);
    } else w = rand() < 0.8 ? pick(rand, EMOJI) + pick(rand, EMOJI) : pick(rand, WORDS);
    parts.push(w);
    size += Buffer.byteLength(w) + 1;
  }
  return parts.join(' ');
}

/** Exactly `bytes` bytes of valid UTF-8 of the given kind (cut at a character boundary, padded with spaces). */
export function corpus(kind, bytes) {
  const text = Buffer.from(build(kind, prng(0x5eed + kind.length), bytes + 64), 'utf8');
  let end = Math.min(bytes, text.length);
  while (end > 0 && (text[end] & 0xc0) === 0x80) end--; // back to a character boundary
  const out = Buffer.alloc(bytes, 0x20);
  text.copy(out, 0, 0, end);
  return out;
}

export const CORPORA = ['ascii', 'mixed', 'emoji'];
