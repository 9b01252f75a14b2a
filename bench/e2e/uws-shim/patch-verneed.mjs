// Copy an ELF64 little-endian shared object and mark chosen glibc version requirements
// (entries of .gnu.version_r, "verneed") as weak (VER_FLG_WEAK).
//
// Why: the dynamic loader refuses to load an object that needs "libc.so.6 version GLIBC_2.38"
// when the system libc only has versions up to 2.36, before any symbol is looked up, and no
// LD_PRELOADed library can satisfy that check (it is made against the file named in the
// requirement). A *weak* version requirement that is not found is not fatal (glibc
// elf/dl-version.c). The symbols tagged with that version (__isoc23_strtol@GLIBC_2.38, ...)
// are then resolved by name+version in the global scope, where our LD_PRELOADed shim defines
// them with exactly that version (isoc23.map). Nothing else in the file changes.
//
// Usage: node patch-verneed.mjs <in.node> <out.node> [VERSION ...]   (default GLIBC_2.38)
// Prints one line per patched requirement; exits 1 on a malformed file.
import fs from 'node:fs';

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

function fail(msg) {
  throw new Error(`patch-verneed: ${msg}`);
}

// Read a NUL-terminated string from a string table, bounds checked.
function cstr(buf, tableOff, tableSize, off) {
  if (off >= tableSize) fail(`string offset ${off} outside its table`);
  const start = tableOff + off;
  const end = buf.indexOf(0, start);
  if (end < 0 || end >= tableOff + tableSize) fail('unterminated string');
  return buf.toString('latin1', start, end);
}

function sectionHeaders(buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) fail('only ELF64 little-endian is handled');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  if (shentsize !== 64 || shoff + shnum * 64 > buf.length) fail('bad section header table');
  const out = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const sh = {
      type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28),
      info: buf.readUInt32LE(o + 0x2c),
    };
    if (sh.type !== 8 /* NOBITS */ && sh.offset + sh.size > buf.length) fail(`section ${i} out of file`);
    out.push(sh);
  }
  return out;
}

export function markWeak(buf, versions) {
  const shdrs = sectionHeaders(buf);
  const vr = shdrs.find((s) => s.type === SHT_GNU_VERNEED);
  if (!vr) return [];
  const str = shdrs[vr.link] ?? fail('verneed has no string table');
  const patched = [];
  const end = vr.offset + vr.size;
  let vn = vr.offset;
  for (let i = 0; i < vr.info; i++) {
    // Elf64_Verneed: u16 version, u16 cnt, u32 file, u32 aux, u32 next
    if (vn + 16 > end) fail('verneed entry out of section');
    const cnt = buf.readUInt16LE(vn + 2);
    const file = cstr(buf, str.offset, str.size, buf.readUInt32LE(vn + 4));
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let j = 0; j < cnt; j++) {
      // Elf64_Vernaux: u32 hash, u16 flags, u16 other, u32 name, u32 next
      if (aux + 16 > end) fail('vernaux entry out of section');
      const name = cstr(buf, str.offset, str.size, buf.readUInt32LE(aux + 8));
      if (versions.includes(name)) {
        buf.writeUInt16LE(buf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
        patched.push(`${file} ${name}`);
      }
      const next = buf.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  return patched;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output, ...rest] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node patch-verneed.mjs <in> <out> [VERSION ...]');
    process.exit(2);
  }
  const buf = fs.readFileSync(input);
  const done = markWeak(buf, rest.length ? rest : ['GLIBC_2.38']);
  fs.writeFileSync(output, buf);
  for (const p of done) console.log(`weak: ${p}`);
}
