/**
 * Case family 6: UTF-8 handling (RFC 6455 §8.1), after Autobahn|Testsuite's case6_*. The
 * 6.5-6.23 groups are Markus Kuhn's UTF-8 decoder stress test, in Autobahn's order and
 * numbering.
 */
import { isUtf8 } from 'node:buffer';

import { CLEAN_BY_ME, failedByPeer, msg, type CaseDef, type CaseRun } from '../case-run';
import { OP } from '../wire';

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s/g, ''), 'hex');
/** κόσμε, Kuhn's sample word. */
const KOSME = h('ceba e1bdb9 cf83 cebc ceb5');
const HELLO = 'Hello-µ@ßöäüàá-UTF-8!!';

function echoText(id: string, description: string, send: (c: CaseRun) => void, echo: Buffer | string): CaseDef {
  return {
    id,
    description,
    expectation: "The message is echo'ed back to us.",
    onOpen(c) {
      c.expected.set('OK', [msg(echo, false)]);
      c.expectedClose = CLEAN_BY_ME;
      send(c);
      c.p.closeAfter(1);
    },
  };
}

function invalidText(id: string, description: string, payload: Buffer, fragmentSize: number, killAfter: number): CaseDef {
  return {
    id,
    description,
    expectation: 'The connection is failed immediately (1007), since the payload is not valid UTF-8.',
    onOpen(c) {
      c.expected.set('OK', []);
      c.expectedClose = failedByPeer(1007, true);
      c.p.sendMessage(payload, false, fragmentSize);
      c.p.killAfter(killAfter);
    },
  };
}

/**
 * 6.4.x: an invalid message in three parts with pauses in between. The part that makes it
 * invalid must be refused at once (OK); refusing it only when the message is complete is
 * NON-STRICT. `frames`: three frames, or three pieces of one frame.
 */
function failFast(id: string, description: string, parts: [Buffer, Buffer, Buffer], frames: boolean): CaseDef {
  return {
    id,
    description,
    expectation: 'The part that makes the payload invalid is refused immediately (fail fast); refusing the completed message is NON-STRICT.',
    onOpen(c) {
      c.expected.set('OK', [['timeout', 'A']]);
      c.expected.set('NON-STRICT', [['timeout', 'A'], ['timeout', 'B']]);
      c.expectedClose = failedByPeer(1007, true);
      let send: (i: number) => void;
      if (frames) {
        send = (i) => c.p.sendFrame({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === 2, payload: parts[i] });
      } else {
        const whole = c.p.frameBytes({ opcode: OP.TEXT, payload: Buffer.concat(parts) });
        const start = whole.length - parts[0].length - parts[1].length - parts[2].length;
        const cuts = [0, start + parts[0].length, start + parts[0].length + parts[1].length, whole.length];
        send = (i) => c.p.sendRaw(whole.subarray(cuts[i], cuts[i + 1]));
      }
      send(0);
      c.p.continueLater(1, () => {
        if (c.p.state !== 'open') return;
        c.mark('A');
        send(1);
        c.p.continueLater(1, () => {
          if (c.p.state !== 'open') return;
          c.mark('B');
          send(2);
          c.p.killAfter(1);
        });
      });
    },
  };
}

/** Kuhn's groups as [title, [valid, bytes][]]. */
function sequences(): Array<[string, Array<[boolean, Buffer]>]> {
  const range = (from: number, to: number, each: (i: number) => number[]): Buffer => {
    const out: number[] = [];
    for (let i = from; i < to; i++) out.push(...each(i));
    return Buffer.from(out);
  };
  const missingLast = ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf'].map(h);
  const nonChars: Array<[boolean, Buffer]> = [[true, h('efbfbe')], [true, h('efbfbf')]];
  for (const z1 of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const z2 of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (z1 === 0xf4 && z2 !== 0x8f) continue; // beyond U+10FFFF
      for (const z3 of [0xbe, 0xbf]) {
        const b = Buffer.from([z1, z2, 0xbf, z3]);
        if (z1 === 0xf0 && z2 === 0x8f) continue; // overlong
        nonChars.push([true, b]);
      }
    }
  }
  const all = (valid: boolean, hexes: string[]): Array<[boolean, Buffer]> => hexes.map((x) => [valid, h(x)]);
  return [
    ['Some valid UTF-8 sequences', [...all(true, ['68656c6c6f24776f726c64', '68656c6c6fc2a2776f726c64', '68656c6c6fe282ac776f726c64', '68656c6c6ff0a4ada2776f726c64']), [true, KOSME]]],
    ['All prefixes of a valid UTF-8 string that contains multi-byte code points', Array.from({ length: KOSME.length }, (_, i): [boolean, Buffer] => [isUtf8(KOSME.subarray(0, i + 1)), KOSME.subarray(0, i + 1)])],
    ['First possible sequence of a certain length', all(true, ['00', 'c280', 'e0a080', 'f0908080'])],
    ['First possible sequence length 5/6 (invalid codepoints)', all(false, ['f888808080', 'fc8480808080'])],
    ['Last possible sequence of a certain length', all(true, ['7f', 'dfbf', 'efbfbf', 'f48fbfbf'])],
    ['Last possible sequence length 4/5/6 (invalid codepoints)', all(false, ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf'])],
    ['Other boundary conditions', [...all(true, ['ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf']), [false, h('f4908080')]]],
    ['Unexpected continuation bytes', [...all(false, ['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf']), [false, range(0x80, 0xbf, (i) => [i])]]],
    ['Lonely start characters', ([[0xc0, 0xdf], [0xe0, 0xef], [0xf0, 0xf7], [0xf8, 0xfb], [0xfc, 0xfd]] as const).map(([a, b]): [boolean, Buffer] => [false, range(a, b, (i) => [i, 0x20])])],
    ['Sequences with last continuation byte missing', missingLast.map((b): [boolean, Buffer] => [false, b])],
    ['Concatenation of incomplete sequences', [[false, Buffer.concat(missingLast)]]],
    ['Impossible bytes', all(false, ['fe', 'ff', 'fefeffff'])],
    ['Examples of an overlong ASCII character', all(false, ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'])],
    ['Maximum overlong sequences', all(false, ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'])],
    ['Overlong representation of the NUL character', all(false, ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'])],
    ['Single UTF-16 surrogates', all(false, ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'])],
    ['Paired UTF-16 surrogates', all(false, ['eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf', 'edae80edb080', 'edae80edbfbf', 'edafbfedb080', 'edafbfedbfbf'])],
    ['Non-character code points (valid UTF-8)', nonChars],
    ['Unicode specials (i.e. replacement char)', all(true, ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'])],
  ];
}

export function family6(): CaseDef[] {
  const invalid = Buffer.concat([KOSME, h('eda080'), Buffer.from('edited')]);
  const ff = Buffer.concat([KOSME, h('f4908080'), Buffer.from('edited')]);
  const out: CaseDef[] = [
    echoText('6.1.1', 'Send text message of length 0.', (c) => c.p.sendFrame({ opcode: OP.TEXT, payload: '' }), ''),
    echoText('6.1.2', 'Send fragmented text message, 3 fragments each of length 0.', (c) => {
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: '' });
      c.p.sendFrame({ opcode: OP.CONT, fin: false, payload: '' });
      c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: '' });
    }, ''),
    echoText('6.1.3', 'Send fragmented text message, 3 fragments, first and last of length 0.', (c) => {
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: '' });
      c.p.sendFrame({ opcode: OP.CONT, fin: false, payload: 'middle frame payload' });
      c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: '' });
    }, 'middle frame payload'),
    echoText('6.2.1', 'Send a valid UTF-8 text message in one fragment.', (c) => c.p.sendMessage(HELLO, false), HELLO),
    echoText('6.2.2', 'Send a valid UTF-8 text message in two fragments, split on a code point boundary.', (c) => {
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: 'Hello-µ@ßöä' });
      c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: 'üàá-UTF-8!!' });
    }, HELLO),
    echoText('6.2.3', 'Send a valid UTF-8 text message in fragments of 1 octet.', (c) => c.p.sendMessage(HELLO, false, 1), HELLO),
    echoText('6.2.4', 'Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet.', (c) => c.p.sendMessage(KOSME, false, 1), KOSME),
    invalidText('6.3.1', 'Send invalid UTF-8 text message unfragmented.', invalid, 0, 1),
    invalidText('6.3.2', 'Send invalid UTF-8 text message in fragments of 1 octet.', invalid, 1, 1),
    failFast('6.4.1', 'Invalid UTF-8 in 3 frames: valid, then the invalid code point (U+110000), then the rest.', [KOSME, h('f4908080'), Buffer.from('edited')], true),
    failFast('6.4.2', 'As 6.4.1, the 2nd frame holding only the octet that makes the payload invalid.', [ff.subarray(0, 12), ff.subarray(12, 13), ff.subarray(13)], true),
    failFast('6.4.3', 'As 6.4.1, in 3 chops of one frame.', [KOSME, h('f4908080'), Buffer.from('edited')], false),
    failFast('6.4.4', 'As 6.4.2, in 3 chops of one frame.', [ff.subarray(0, 12), ff.subarray(12, 13), ff.subarray(13)], false),
  ];
  sequences().forEach(([title, seqs], g) => {
    seqs.forEach(([valid, payload], j) => {
      const id = `6.${g + 5}.${j + 1}`;
      const description = `${title}: a text message, payload 0x${payload.toString('hex')}, ${valid ? 'valid' : 'not valid'} UTF-8.`;
      if (!valid) {
        out.push(invalidText(id, description, payload, 0, 0.5));
        return;
      }
      out.push({
        id,
        description,
        expectation: "The message is echo'ed back to us.",
        onOpen(c) {
          c.expected.set('OK', [msg(payload, false)]);
          c.expectedClose = CLEAN_BY_ME;
          c.p.sendMessage(payload, false);
          c.p.killAfter(0.5);
        },
      });
    });
  });
  return out;
}
