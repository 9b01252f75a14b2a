/**
 * `wscore serve --workers N`: every core on one box (docs/scale-out.md, "The three levels").
 * The node:cluster primary forks N workers that run the same `wscore serve` command and share
 * its port (cluster's default round-robin: the primary accepts and hands connections out in
 * turn). Workers are separate processes: without `--redis` each is its own echo/broadcast/
 * topic server; with `--redis URL` every worker uses the Redis adapter, so a topic spans them.
 *
 * Each worker adds `X-Wscore-Worker: <cluster worker id>` to its 101 responses, so a client
 * (or a test) can tell which process it landed on.
 * SIGINT/SIGTERM to the primary: it sends SIGTERM to every worker (which closes its server with
 * wss.close(), clients and Redis connections included, as a plain `wscore serve` does) and
 * exits once they have exited. A worker that dies on its own after it listened is replaced; one
 * that dies before it ever listened (bad option, port in use) stops the whole command.
 */
import cluster, { type Worker } from 'node:cluster';

import type { WebSocketServer } from './io';

/** What the primary needs of the CLI's streams (see CliIO in cli.ts). */
export interface WorkersIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  setExitCode(code: number): void;
}

/** Upper bound for --workers: far more processes than cores only thrash. */
const MAX_WORKERS = 1024;
/** How long the primary waits for its workers after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;
/** The response header that names the worker a connection landed on. */
export const WORKER_HEADER = 'X-Wscore-Worker';

/**
 * Takes `--workers N` / `--workers=N` out of `serve`'s arguments.
 * Returns the count (undefined when absent) and the other arguments, or a usage problem.
 */
export function takeWorkersOption(args: readonly string[]): { workers?: number; args: string[]; error?: string } {
  const rest: string[] = [];
  let raw: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--workers') raw = args[++i] ?? '';
    else if (a.startsWith('--workers=')) raw = a.slice('--workers='.length);
    else rest.push(a);
  }
  if (raw === undefined) return { args: rest };
  const workers = Number(raw);
  if (!/^\d+$/.test(raw) || workers < 1 || workers > MAX_WORKERS) return { args: rest, error: `--workers takes a count from 1 to ${MAX_WORKERS}, not ${JSON.stringify(raw)}` };
  return { workers, args: rest };
}

/** Whether this process is a worker forked by `serve --workers` (then it serves). */
export function isServeWorker(): boolean {
  return cluster.isWorker;
}

/**
 * In a worker whose server could not start: exit once the CLI has reported why and set the
 * exit status (the next turn), so the primary sees it; the IPC channel would keep it alive.
 */
export function exitWorkerAfterReport(): void {
  setImmediate(() => process.exit());
}

/** In a worker: names the worker in every 101 response (ws's 'headers' event). */
export function tagWorker(wss: WebSocketServer): void {
  const id = cluster.worker?.id;
  if (id === undefined) return;
  wss.on('headers', (lines: string[]) => void lines.push(`${WORKER_HEADER}: ${id}`));
}

/**
 * The primary: forks `count` workers running this same command line (cluster's defaults:
 * process.argv[1] with process.argv.slice(2) and process.execArgv), reports once all listen,
 * and resolves when the command is over (after a signal, or a worker that failed to start).
 */
export function runPrimary(count: number, io: WorkersIO): Promise<void> {
  return new Promise((resolve) => {
    const listening = new Set<number>();
    let stopping = false;
    let announced = false;

    const fork = (): Worker => {
      const worker = cluster.fork();
      worker.once('listening', (address) => {
        listening.add(worker.id);
        if (announced) {
          io.stdout.write(`wscore serve: worker ${worker.id} (pid ${worker.process.pid}) listening\n`); // a replacement
        } else if (listening.size === count) {
          announced = true;
          const pids = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid);
          io.stdout.write(`wscore serve: ${count} workers listening on port ${address.port} (pids ${pids.join(', ')})\n`);
        }
      });
      return worker;
    };

    const stop = (code: number): void => {
      if (stopping) return;
      stopping = true;
      io.setExitCode(code);
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
      if (workers.length === 0) return resolve();
      let left = workers.length;
      const timer = setTimeout(() => workers.forEach((w) => w.isDead() || w.process.kill('SIGKILL')), STOP_GRACE_MS);
      for (const w of workers) {
        w.once('exit', () => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        w.process.kill('SIGTERM');
      }
    };

    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      if (!listening.has(worker.id)) {
        io.stderr.write(`wscore serve: worker ${worker.id} exited (${how}) before it listened; stopping\n`);
        stop(1);
        return;
      }
      listening.delete(worker.id);
      io.stderr.write(`wscore serve: worker ${worker.id} exited (${how}); starting another\n`);
      fork();
    });
    process.once('SIGINT', () => stop(0));
    process.once('SIGTERM', () => stop(0));
    for (let i = 0; i < count; i++) fork();
  });
}
