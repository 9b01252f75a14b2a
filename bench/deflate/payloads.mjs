// JSON-like WebSocket messages of a given size, deterministic (seeded) and all different,
// like a feed of quotes or game state: repeated keys, varying numbers and short strings.
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function record(r, i) {
  return {
    id: i,
    sym: WORDS[Math.floor(r() * WORDS.length)].toUpperCase().slice(0, 4),
    px: Math.round(r() * 1e6) / 100,
    qty: Math.floor(r() * 5000),
    side: r() < 0.5 ? 'buy' : 'sell',
    ts: 1700000000000 + Math.floor(r() * 1e9),
  };
}

/** `count` distinct UTF-8 JSON messages of exactly `size` bytes each (padded with spaces). */
export function jsonMessages(size, count, seed = 42) {
  const r = rng(seed);
  const out = [];
  for (let m = 0; m < count; m++) {
    const items = [];
    let text = '';
    for (let i = 0; ; i++) {
      items.push(record(r, m * 1000 + i));
      const next = JSON.stringify({ type: 'update', seq: m, items });
      if (next.length > size) break;
      text = next;
    }
    if (text === '') {
      // Too small for the envelope: one flat record, dropping fields until it fits.
      const rec = record(r, m);
      const flat = { sym: rec.sym, px: rec.px, qty: rec.qty, side: rec.side, id: rec.id, ts: rec.ts };
      const keys = Object.keys(flat);
      do text = JSON.stringify(Object.fromEntries(keys.map((k) => [k, flat[k]])));
      while (text.length > size && keys.pop() !== undefined);
      text = text.slice(0, size);
    }
    out.push(Buffer.from(text.padEnd(size, ' ')));
  }
  return out;
}
