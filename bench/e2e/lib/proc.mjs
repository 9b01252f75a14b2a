// Child processes of the benchmark: a server (pinned with taskset, controlled over its
// stdin/stdout line protocol, see servers/common.mjs) and the load generator (pinned to the
// other core). Every wait has a timeout; every child is killed by its own pid on the way out.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';

const live = new Set(); // children to kill if the runner dies

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(130);
  });
}
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// A free TCP port on 127.0.0.1 (the kernel's choice; released right away for the server).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function pinned(cpu, cmd, args) {
  return cpu === null || cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

// Lines from a child's stdout, with "wait for a line matching X" (bounded by a timeout).
function lineReader(child, name) {
  const waiters = [];
  const backlog = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const i = waiters.findIndex((w) => w.match(line));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(line);
    else backlog.push(line);
  });
  child.on('exit', (code, sig) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited (${code ?? sig}) before "${w.what}"`));
  });
  return (prefix, timeoutMs) =>
    new Promise((resolve, reject) => {
      const match = (l) => l.startsWith(prefix);
      const j = backlog.findIndex(match);
      if (j >= 0) return resolve(backlog.splice(j, 1)[0]);
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${name} is not running`));
      const w = { match, what: prefix };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`${name}: no "${prefix}" within ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (l) => (clearTimeout(timer), resolve(l));
      w.reject = (e) => (clearTimeout(timer), reject(e));
      waiters.push(w);
    });
}

function waitExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.on('exit', () => (clearTimeout(timer), resolve()));
  });
}

// Start a server; resolves once it printed "ready". Returns { pid, port, info, argv, stats(), stop() }.
export async function startServer({ name, script, env, args, cpu, readyTimeoutMs = 15_000 }) {
  const nodeArgs = ['--expose-gc', script, ...args];
  const [cmd, argv] = pinned(cpu, process.execPath, nodeArgs);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {}); // a server that died is reported by its exit, not EPIPE
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 8192) stderr += d;
  });
  child.on('exit', () => live.delete(child));
  const next = lineReader(child, `server ${name}`);
  let line;
  try {
    line = await next('ready ', readyTimeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${stderr.trim()}`);
  }
  const [, port, ...rest] = line.split(' ');
  return {
    pid: child.pid, // taskset execs node: same pid, so /proc/<pid> is the server
    port: Number(port),
    info: JSON.parse(rest.join(' ') || '{}'),
    argv: [cmd, ...argv],
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stats() {
      child.stdin.write('stats\n');
      const s = JSON.parse((await next('stats ', 15_000)).slice(6));
      s.vmrss = readVmRss(child.pid);
      return s;
    },
    async stop() {
      if (child.exitCode === null) child.stdin.end('exit\n');
      await waitExit(child, 5_000);
    },
  };
}

export function readVmRss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// Run the load generator to completion. onEvent(line, child) sees "event ..." lines (idle
// mode: the runner measures the server, then writes a line to the child's stdin).
export async function runLoadgen({ bin, args, cpu, timeoutMs, onEvent }) {
  const [cmd, argv] = pinned(cpu, bin, args);
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  live.add(child);
  let stderr = '';
  let result = null;
  child.stderr.on('data', (d) => {
    if (stderr.length < 16384) stderr += d;
  });
  const events = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('result ')) result = JSON.parse(line.slice(7));
    else if (line.startsWith('event ')) events.push(Promise.resolve(onEvent?.(line.slice(6), child)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  live.delete(child);
  await Promise.all(events);
  if (!result) throw new Error(`load generator produced no result (exit ${child.exitCode ?? child.signalCode}):\n${stderr.trim()}`);
  result.argv = [cmd, ...argv];
  if (stderr.trim()) result.stderr = stderr.trim().split('\n').slice(0, 20);
  return result;
}
