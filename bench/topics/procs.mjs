// Processes of the topic benches (bench/topics/*.mjs): a free port, a child pinned to a cpu
// that is ready once a stdout line matches, and its stop. Children are killed when the bench exits.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

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

/** Spawns `cmd args` pinned to `cpu`; resolves once a stdout line matches `readyRe`. */
export function start(cmd, args, cpu, readyRe) {
  const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let err = '';
  child.stderr.on('data', (d) => (err.length < 4096 ? (err += d) : null));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(args[0] ?? cmd)} not ready in 15 s:\n${err}`)), 15_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = readyRe.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited (${code}):\n${err}`)));
  });
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}
