import { defineConfig } from 'vitest/config';

// Every suite runs twice: once per backend (WSCORE_BACKEND is read when src/backend is first
// imported). Suites that do not touch the backend pay a few milliseconds for the repeat;
// in exchange nothing can forget to run on both.
//
// The transport is a third dimension (issue 14, docs/transports.md): the `native` project
// runs with the default 'auto' choice, so its connections over plain TCP use the native
// transport (on Linux); `native-node` forces Node's sockets (WSCORE_TRANSPORT=node) for the
// suites that run connections (io, security), so that both transports pass them on the
// native backend. The js backend always uses Node's sockets.
const backends = ['native', 'js'] as const;

export default defineConfig({
  test: {
    projects: [
      ...backends.map((name) => ({
        extends: true as const,
        test: {
          name,
          env: { WSCORE_BACKEND: name },
          include: ['test/**/*.test.ts'],
          // The deflate parity suite drives both backends itself (and needs the addon), so it runs
          // once, in the native project. backend-parity and frames-parity also call both backends
          // directly, but in each project they additionally check the active `backend` object.
          // The NativeTransport suites need the addon (Linux): on the js project their tests would
          // only be skipped, which CI counts as failures; the js project checks instead that the
          // native transport is unavailable there (native-transport-unavailable.test.ts).
          exclude:
            name === 'js'
              ? ['test/backend/deflate-parity.test.ts', 'test/io/native-transport{,-close,-epoll,-fds,-head,-sockopt,-worker}.test.ts']
              : ['test/io/native-transport-unavailable.test.ts'],
        },
      })),
      {
        extends: true as const,
        test: {
          name: 'native-node',
          env: { WSCORE_BACKEND: 'native', WSCORE_TRANSPORT: 'node' },
          include: ['test/io/**/*.test.ts', 'test/security/**/*.test.ts'],
          // They drive NativeTransport directly, whatever WSCORE_TRANSPORT says: once is enough.
          exclude: ['test/io/native-transport*.test.ts'],
        },
      },
    ],
    // `include` is per project: with `extends`, a list given here would be added to each
    // project's own, and native-node would run every suite.
    // One line naming the missing interop peers (Debian packages), if any: test/interop/peers.ts.
    globalSetup: ['test/interop/peers-report.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
