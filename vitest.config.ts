import { defineConfig } from 'vitest/config';

// Every suite runs twice: once per backend (WSCORE_BACKEND is read when src/backend is first
// imported). Suites that do not touch the backend pay a few milliseconds for the repeat;
// in exchange nothing can forget to run on both.
const backends = ['native', 'js'] as const;

export default defineConfig({
  test: {
    projects: backends.map((name) => ({
      extends: true,
      test: {
        name,
        env: { WSCORE_BACKEND: name },
        // The deflate parity suite drives both backends itself (and needs the addon), so it runs
        // once, in the native project. backend-parity and frames-parity also call both backends
        // directly, but in each project they additionally check the active `backend` object.
        exclude: name === 'js' ? ['test/backend/deflate-parity.test.ts'] : [],
      },
    })),
    include: ['test/**/*.test.ts'],
    // One line naming the missing interop peers (Debian packages), if any: test/interop/peers.ts.
    globalSetup: ['test/interop/peers-report.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
