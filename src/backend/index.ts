/**
 * Picks the backend once, at first import: the native addon if it loads, else the pure-TS
 * twins. `WSCORE_BACKEND=js` forces the twins; `WSCORE_BACKEND=native` demands the addon
 * and throws if it cannot be loaded (so a test run on "native" can never silently test js).
 */
import type { Backend, BackendName } from './types';
import { jsBackend } from './js';
import { createNativeBackend } from './native-backend';

export type { Backend, BackendName } from './types';
export { Utf8State } from './types';
export { InflateStatus } from './deflate-types';
export type { Deflater, DeflaterOptions, Inflater, InflaterOptions } from './deflate-types';

/** Why the native backend is not active, when it is not (undefined when it is). */
export let nativeLoadError: Error | undefined;

function chooseBackend(): Backend {
  const forced = process.env.WSCORE_BACKEND;
  if (forced !== undefined && forced !== '' && forced !== 'js' && forced !== 'native') {
    throw new Error(`wscore: WSCORE_BACKEND must be "js" or "native", not ${JSON.stringify(forced)}`);
  }
  if (forced === 'js') {
    nativeLoadError = new Error('WSCORE_BACKEND=js');
    return jsBackend;
  }
  try {
    return createNativeBackend();
  } catch (err) {
    nativeLoadError = err instanceof Error ? err : new Error(String(err));
    if (forced === 'native') {
      throw new Error(`wscore: WSCORE_BACKEND=native but the native addon could not be loaded: ${nativeLoadError.message}`, {
        cause: nativeLoadError,
      });
    }
    return jsBackend;
  }
}

/** The active backend. */
export const backend: Backend = chooseBackend();

/** Name of the active backend. */
export const backendName: BackendName = backend.name;
export { jsBackend };
export { createNativeBackend };
