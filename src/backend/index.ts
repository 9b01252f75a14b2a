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
export { INLINE_MASK_MAX_BYTES, MASK_NATIVE_MIN_BYTES } from './thresholds';
export { InflateStatus } from './deflate-types';
export type { Deflater, DeflaterOptions, Inflater, InflaterOptions } from './deflate-types';

/** What {@link selectBackend} picked, and why native is not active when it is not. */
export interface BackendChoice {
  backend: Backend;
  nativeLoadError: Error | undefined;
}

/** The code of the warning emitted when the addon cannot load and nobody asked for js. */
export const NO_NATIVE_WARNING = 'WSCORE_NO_NATIVE';

/** How to get the addon where no prebuild fits (npm 11 does not run install scripts by default). */
const FIX =
  'wscore works, on its slower pure-JS backend. To build the addon: `npm install-scripts approve wscore && npm rebuild wscore` ' +
  '(needs a C++ toolchain; npm < 11: `npm rebuild wscore`). In a bundled app, copy node_modules/wscore/prebuilds/ next to ' +
  'the bundle or set WSCORE_ADDON_PATH. Set WSCORE_BACKEND=js to choose the JS backend and silence this warning.';

/**
 * Chooses the backend for `env`. When the addon cannot load and `WSCORE_BACKEND` is unset,
 * the js backend is used and `warn` is called once: otherwise an install without the addon
 * is silently several times slower.
 */
export function selectBackend(
  env: NodeJS.ProcessEnv,
  loadNative: () => Backend = createNativeBackend,
  warn: (warning: string, options: { code: string; detail: string }) => void = (w, o) => process.emitWarning(w, o),
): BackendChoice {
  const forced = env.WSCORE_BACKEND;
  if (forced !== undefined && forced !== '' && forced !== 'js' && forced !== 'native') {
    throw new Error(`wscore: WSCORE_BACKEND must be "js" or "native", not ${JSON.stringify(forced)}`);
  }
  if (forced === 'js') return { backend: jsBackend, nativeLoadError: new Error('WSCORE_BACKEND=js') };
  try {
    return { backend: loadNative(), nativeLoadError: undefined };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (forced === 'native') {
      throw new Error(`wscore: WSCORE_BACKEND=native but the native addon could not be loaded: ${error.message}`, { cause: error });
    }
    warn(`wscore: the native addon could not be loaded (${error.message.split('\n')[0]})`, { code: NO_NATIVE_WARNING, detail: FIX });
    return { backend: jsBackend, nativeLoadError: error };
  }
}

const choice = selectBackend(process.env);

/** Why the native backend is not active, when it is not (undefined when it is). */
export const nativeLoadError: Error | undefined = choice.nativeLoadError;

/** The active backend. */
export const backend: Backend = choice.backend;

/** Name of the active backend. */
export const backendName: BackendName = backend.name;
export { jsBackend };
export { createNativeBackend };
