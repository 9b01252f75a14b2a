import { describe, expect, it } from 'vitest';

import { backend, backendName, jsBackend, nativeLoadError } from '../src/backend';

describe('backend selection', () => {
  it('honours WSCORE_BACKEND', () => {
    const wanted = process.env.WSCORE_BACKEND;
    expect(wanted === 'native' || wanted === 'js').toBe(true);
    expect(backendName).toBe(wanted);
    expect(backend.name).toBe(wanted);
    if (wanted === 'native') expect(nativeLoadError).toBeUndefined();
    else expect(backend).toBe(jsBackend);
  });
});
