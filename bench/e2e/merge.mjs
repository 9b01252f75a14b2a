// Combines e2e results files: cells of the later files replace the same cells of the first
// (same suite, compression, connections and payload), so one part of the matrix can be run
// again (a noisy minute, a fix) without rerunning the rest. The merged file records which
// cells came from where (meta.merged, shown in the docs section).
//
//   node bench/e2e/merge.mjs base.json rerun.json [more.json ...] --out merged.json
//   node bench/e2e/run.mjs --report merged.json --docs
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
if (outAt < 0 || outAt + 1 >= args.length || args.length - 2 < 2) {
  console.error('usage: node bench/e2e/merge.mjs base.json rerun.json [...] --out merged.json');
  process.exit(2);
}
const out = args[outAt + 1];
const inputs = args.filter((_, i) => i !== outAt && i !== outAt + 1);
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

const keyOf = {
  echo: (c) => `${c.suite}/${c.deflate}/${c.conns}/${c.size}`,
  scale: (c) => `${c.conns}`,
  broadcast: (c) => `${c.conns}/${c.size}`,
};

const merged = read(inputs[0]);
merged.meta.merged = [];
for (const file of inputs.slice(1)) {
  const more = read(file);
  const replaced = [];
  for (const kind of Object.keys(keyOf)) {
    for (const cell of more[kind] ?? []) {
      const key = keyOf[kind](cell);
      const list = (merged[kind] ??= []);
      const at = list.findIndex((c) => keyOf[kind](c) === key);
      if (at >= 0) list[at] = cell;
      else list.push(cell);
      replaced.push(`${kind} ${key}`);
    }
  }
  merged.meta.merged.push({
    file: path.basename(file),
    started: more.meta.started,
    finished: more.meta.finished,
    loadavg: more.meta.machine?.loadavg,
    command: more.meta.command,
    cells: replaced,
  });
}
fs.writeFileSync(out, JSON.stringify(merged, null, 1));
console.log(`wrote ${out}: ${merged.meta.merged.map((m) => `${m.cells.length} cells from ${m.file}`).join(', ')}`);
