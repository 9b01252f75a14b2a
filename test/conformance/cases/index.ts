/**
 * The case table: every case of families 1-7, 9, 10, 12 and 13, built for a profile.
 * "full" is Autobahn's sizes, counts and timers; "ci" keeps every case and every verdict rule
 * but sends fewer round trips and smaller 9.1/9.2/9.5/9.6 messages, and shortens the
 * deliberate pauses (5.19's second, 6.4.x's fail-fast waits), so that both modes on both
 * backends run in about a minute.
 */
import type { CaseDef } from '../case-run';
import type { Timing } from '../session';
import { family12, family13, type CompressionScale } from './compression';
import { family5 } from './fragmentation';
import { families1to4 } from './framing';
import { family10, family9, type LimitsScale } from './limits';
import { family6 } from './utf8';
import { family7 } from './close';

export interface Profile extends LimitsScale, CompressionScale {
  name: 'ci' | 'full';
  timing: Timing;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  ci: {
    name: 'ci',
    maxMessage: 4 * 1024 * 1024,
    choppedMessage: 256 * 1024,
    roundTrips: 100,
    // At least 3 messages (context takeover spans messages), about 128 KiB per case.
    messages: (size) => Math.min(8, Math.max(3, Math.ceil((128 * 1024) / size))),
    timing: { waitScale: 0.3, timeoutScale: 1 },
  },
  full: {
    name: 'full',
    maxMessage: 16 * 1024 * 1024,
    choppedMessage: 1024 * 1024,
    roundTrips: 1000,
    messages: () => 1000,
    timing: { waitScale: 1, timeoutScale: 1 },
  },
};

export function allCases(profile: Profile): CaseDef[] {
  return [...families1to4(), ...family5(), ...family6(), ...family7(), ...family9(profile), ...family10(), ...family12(profile), ...family13(profile)];
}

/**
 * Case selection as Autobahn's spec files write it: comma-separated ids or prefixes, "*"
 * as a wildcard ("1.*", "6.4.*", "7.1.1"); "*" alone selects everything.
 */
export function selectCases(cases: CaseDef[], patterns: string[]): CaseDef[] {
  const res = patterns.map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`));
  return cases.filter((c) => res.some((re) => re.test(c.id)));
}
