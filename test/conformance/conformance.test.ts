/**
 * An Autobahn|Testsuite-class conformance run (cases 1-7, 9, 10, 12, 13; see
 * docs/conformance.md) against wscore on this project's backend: wscore as an echo server
 * under our fuzzing client (over HTTP/1.1, and over HTTP/2 streams: RFC 8441, 'server-h2'),
 * and as an echo client under our fuzzing server. Every case must end without a FAILED verdict
 * (nor a FAILED or UNCLEAN close), as in Autobahn's report.
 */
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src';
import { allCases, PROFILES } from './cases';
import { describeFailure, summaryLine } from './report';
import { isFailure } from './result';
import { runMode, type Mode } from './runner';

describe(`Autobahn-class conformance (${backendName} backend)`, () => {
  for (const mode of ['server', 'client', 'server-h2'] as Mode[]) {
    it(`wscore as ${mode}: no case FAILED`, async () => {
      const profile = PROFILES.ci;
      const run = await runMode(mode, allCases(profile), profile);
      console.log(summaryLine(run));
      expect(run.results.length).toBe(allCases(profile).length);
      expect(run.results.filter(isFailure).map(describeFailure)).toEqual([]);
    }, 180_000);
  }
});
