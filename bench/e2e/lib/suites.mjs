// The four measurements. Each starts a fresh server (so no run inherits another's heap or
// connections), drives it with the load generator on the other core, stops it, and returns
// a plain record for the results file.
import { freePort, runLoadgen, startServer } from './proc.mjs';
import { serverEnv, serverScript } from './servers.mjs';

async function withServer(name, ctx, mode, deflate, fn) {
  const port = await freePort();
  const server = await startServer({
    name,
    script: serverScript(name),
    env: serverEnv(name, ctx.prereq),
    args: ['--port', String(port), '--mode', mode, '--deflate', deflate],
    cpu: ctx.cpus.server,
  });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

// A run with errors keeps what the server said on stderr (the first lines), to tell why.
function withServerLog(server, r) {
  const text = server.stderr().trim();
  if (r.error_total && text) r.server_stderr = text.split('\n').slice(0, 30);
  return r;
}

// K per connection: the requested depth, but no more than a budget of bytes in flight in
// total (1,000 connections x 64 KiB x 32 would be 2 GiB) nor of messages in flight in total
// (enough to keep any server busy; more only lengthens the queue, and with deflate at a few
// thousand messages/s a queue of 32,000 would take longer to drain than the window lasts),
// and at least 1.
export function inflightFor(opts, conns, size) {
  const byBytes = Math.floor(opts.inflightBudget / Math.max(1, conns * Math.max(size, 64)));
  const byCount = Math.floor(opts.inflightTotal / conns);
  return Math.max(1, Math.min(opts.inflight, byBytes, byCount));
}

// Throughput (K in flight) or latency (1 in flight) for one server and one cell.
export async function echoRun(name, ctx, cell) {
  const { suite, size, conns, deflate } = cell;
  return withServer(name, ctx, 'echo', deflate, async (server) => {
    const args = [
      '--port', String(server.port),
      '--mode', suite,
      '--conns', String(conns),
      '--size', String(size),
      '--inflight', String(cell.inflight),
      '--duration', String(ctx.opts.duration),
      '--warmup', String(ctx.opts.warmup),
      '--deflate', deflate,
      '--server-pid', String(server.pid),
      '--max-seconds', String(Math.ceil(ctx.opts.duration + ctx.opts.warmup + 90)),
    ];
    if (ctx.opts.text) args.push('--text');
    const r = await runLoadgen({
      bin: ctx.loadgen,
      args,
      cpu: ctx.cpus.loadgen,
      timeoutMs: (ctx.opts.duration + ctx.opts.warmup + 120) * 1000,
    });
    const stats = await server.stats().catch(() => null);
    return withServerLog(server, { ...r, server_info: server.info, server_argv: server.argv, server_dropped: stats?.dropped ?? null });
  });
}

// Idle connection scale: memory of the server before and with N idle connections.
export async function scaleRun(name, ctx, conns) {
  return withServer(name, ctx, 'idle', 'off', async (server) => {
    const before = await server.stats();
    let during = null;
    const args = [
      '--port', String(server.port),
      '--mode', 'idle',
      '--conns', String(conns),
      '--hold', '120',
      '--connect-concurrency', String(ctx.opts.connectConcurrency),
      '--server-pid', String(server.pid),
      '--max-seconds', '300',
    ];
    if (ctx.opts.src) args.push('--src', ctx.opts.src);
    const r = await runLoadgen({
      bin: ctx.loadgen,
      args,
      cpu: ctx.cpus.loadgen,
      timeoutMs: 320_000,
      onEvent: async (line, child) => {
        // all open: let the server settle, measure it, then tell the generator to close
        await new Promise((res) => setTimeout(res, ctx.opts.settleMs));
        during = await server.stats().catch((e) => ({ error: e.message }));
        child.stdin.end('done\n');
      },
    });
    const opened = r.opened || 0;
    const per = (k) => (during && opened ? (during[k] - before[k]) / opened : null);
    return withServerLog(server, {
      conns,
      opened,
      open_ms: r.open_ms,
      handshake_ms: r.handshake_ms,
      errors: r.errors,
      error_total: r.error_total,
      server_clients: during?.clients ?? null,
      before,
      during,
      rss_per_conn: per('rss'),
      heap_per_conn: per('heapUsed'),
      external_per_conn: per('external'),
      server_info: server.info,
      server_argv: server.argv,
      loadgen_argv: r.argv,
    });
  });
}

// Broadcast: one message to N clients, time until every client has it (median over rounds).
export async function broadcastRun(name, ctx, conns) {
  return withServer(name, ctx, 'broadcast', 'off', async (server) => {
    const args = [
      '--port', String(server.port),
      '--mode', 'broadcast',
      '--conns', String(conns),
      '--size', String(ctx.opts.bcastSize),
      '--rounds', String(ctx.opts.bcastRounds + ctx.opts.bcastWarmupRounds),
      '--warmup-rounds', String(ctx.opts.bcastWarmupRounds),
      '--round-gap', '0.05',
      '--round-timeout', '20',
      '--connect-concurrency', String(ctx.opts.connectConcurrency),
      '--server-pid', String(server.pid),
      '--max-seconds', '400',
    ];
    if (ctx.opts.src) args.push('--src', ctx.opts.src);
    const r = await runLoadgen({ bin: ctx.loadgen, args, cpu: ctx.cpus.loadgen, timeoutMs: 420_000 });
    return withServerLog(server, { ...r, method: server.info.broadcast ?? null, server_info: server.info, server_argv: server.argv });
  });
}
