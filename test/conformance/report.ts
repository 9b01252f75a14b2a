/**
 * Summaries of conformance runs: one line per mode (counts per verdict, as Autobahn's
 * report header shows them), the evidence of each failure, and a table across runs.
 */
import { isFailure, type CaseResult } from './result';
import type { ModeRun } from './runner';

const VERDICTS = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'] as const;

export function counts(results: CaseResult[]): Record<(typeof VERDICTS)[number], number> {
  const out = { OK: 0, 'NON-STRICT': 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0, FAILED: 0 };
  for (const r of results) out[isFailure(r) ? 'FAILED' : r.behavior]++;
  return out;
}

export function runLabel(run: ModeRun): string {
  return `wscore ${run.mode} (${run.backend})`;
}

export function summaryLine(run: ModeRun): string {
  const c = counts(run.results);
  const failed = run.results.filter(isFailure).map((r) => r.id);
  const verdicts = VERDICTS.map((v) => `${v} ${c[v]}`).join(', ');
  return `${runLabel(run)}: ${run.results.length} cases, ${verdicts}${failed.length > 0 ? ` [${failed.join(' ')}]` : ''} (${(run.wallMs / 1000).toFixed(1)} s, profile ${run.profile})`;
}

/** A failed case in a few lines: what Autobahn's case page would show. */
export function describeFailure(r: CaseResult): string {
  const lines = [`${r.id} ${r.behavior} / close ${r.behaviorClose}: ${r.description}`];
  lines.push(`  result: ${r.result}`);
  lines.push(`  close: ${r.resultClose} (peer close code ${r.remoteCloseCode ?? 'none'}, closed by ${r.closedByMe ? 'fuzzer' : 'peer'}, clean ${r.wasClean})`);
  lines.push(`  received: [${r.received.join(', ')}]`);
  for (const [verdict, events] of Object.entries(r.expected)) lines.push(`  expected ${verdict}: [${events.join(', ')}]`);
  if (r.violations.length > 0) lines.push(`  wire violations: ${r.violations.join('; ')}`);
  return lines.join('\n');
}

function family(id: string): string {
  const parts = id.split('.');
  // Sections ("6.4") for families with three-part ids below 9; whole families otherwise.
  return Number(parts[0]) >= 9 || parts.length < 3 ? parts[0] : parts.slice(0, 2).join('.');
}

function cell(results: CaseResult[]): string {
  const c = counts(results);
  const parts = [`${c.OK} OK`];
  if (c['NON-STRICT'] > 0) parts.push(`${c['NON-STRICT']} NS`);
  if (c.INFORMATIONAL > 0) parts.push(`${c.INFORMATIONAL} INFO`);
  if (c.UNIMPLEMENTED > 0) parts.push(`${c.UNIMPLEMENTED} UNIMPL`);
  if (c.FAILED > 0) parts.push(`${c.FAILED} FAILED`);
  return parts.join(', ');
}

/** Per-family verdict counts, one column per run, then every case that is not plain OK. */
export function table(runs: ModeRun[]): string {
  const families = [...new Set(runs.flatMap((r) => r.results.map((x) => family(x.id))))];
  const header = ['family', ...runs.map(runLabel)];
  const rows = families.map((f) => [f, ...runs.map((r) => cell(r.results.filter((x) => family(x.id) === f)))]);
  rows.push(['all', ...runs.map((r) => cell(r.results))]);
  const notOk = [...new Set(runs.flatMap((r) => r.results.filter((x) => x.behavior !== 'OK' || x.behaviorClose !== 'OK').map((x) => x.id)))];
  const verdictOf = (run: ModeRun, id: string): string => {
    const r = run.results.find((x) => x.id === id);
    return r === undefined ? '-' : r.behaviorClose === 'OK' ? r.behavior : `${r.behavior} / close ${r.behaviorClose}`;
  };
  const caseRows = notOk.map((id) => [id, ...runs.map((r) => verdictOf(r, id))]);
  const render = (head: string[], body: string[][]): string => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i])).join(' | ');
    return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
  };
  const parts = [render(header, rows)];
  if (caseRows.length > 0) parts.push('', 'Cases with a verdict other than OK:', render(['case', ...runs.map(runLabel)], caseRows));
  return parts.join('\n');
}
