// The contestants: which script, which environment. Every server gets the same options and
// echoes (or broadcasts) the same way; only the implementation differs.
import path from 'node:path';

import { E2E } from './build.mjs';

const NO_WS_ADDONS = { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' };

export const SERVERS = {
  'wscore-native': { label: 'wscore native', script: 'wscore.mjs', env: { WSCORE_BACKEND: 'native' }, needs: 'wscore' },
  // Another build of wscore, for before/after comparisons in one interleaved run: the dist/cjs
  // of a checkout of an earlier commit (WSCORE_BASE=/path/to/checkout; `npm run build:ts` there).
  'wscore-base': { label: 'wscore base', script: 'wscore.mjs', env: { WSCORE_BACKEND: 'native', WSCORE_E2E_ROOT: process.env.WSCORE_BASE ?? '' }, needs: 'wscore-base' },
  // This checkout on Node's sockets (the transport seam's NodeStreamTransport), beside
  // wscore-native, which takes plain TCP connections over with the native transport (issue 14).
  'wscore-node': { label: 'wscore node transport', script: 'wscore.mjs', env: { WSCORE_BACKEND: 'native', WSCORE_TRANSPORT: 'node' }, needs: 'wscore' },
  'wscore-js': { label: 'wscore js', script: 'wscore.mjs', env: { WSCORE_BACKEND: 'js' }, needs: 'wscore' },
  ws: { label: 'ws + bufferutil', script: 'ws.mjs', env: {} },
  'ws-plain': { label: 'ws plain', script: 'ws.mjs', env: NO_WS_ADDONS },
  uws: { label: 'uWS.js', script: 'uws.mjs', env: {}, needs: 'uws' },
};

// `wscore-base` runs only when asked for with WSCORE_BASE set.
export const SERVER_ORDER = Object.keys(SERVERS).filter((s) => s !== 'wscore-base' || process.env.WSCORE_BASE);

// The subject of the ratios and targets; every ratio is taken against `ws` and `uws`.
export const SUBJECT = 'wscore-native';

export function serverScript(name) {
  return path.join(E2E, 'servers', SERVERS[name].script);
}

// Environment for one server process. uWS additionally gets the patched addon and the shim.
export function serverEnv(name, prereq) {
  const env = { ...SERVERS[name].env };
  if (name === 'uws' && prereq.uws?.addon) {
    env.WSCORE_UWS_ADDON = prereq.uws.addon;
    if (prereq.uws.preload) env.LD_PRELOAD = prereq.uws.preload;
  }
  return env;
}
