/**
 * Server child processes for the multi-process pub/sub tests (./pubsub-worker.ts, run with
 * vite-node so they load the same src/ as the tests, on the same backend).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const viteNode = path.join(root, 'node_modules', 'vite-node', 'vite-node.mjs');

export interface Worker {
  readonly port: number;
  readonly instance: string;
  readonly child: ChildProcess;
  /** What the worker wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, and resolves with the exit code once the process exited by itself. */
  stop(): Promise<number | null>;
}

export async function startWorker(redisUrl: string, mode?: 'history'): Promise<Worker> {
  const args = [viteNode, path.join(__dirname, 'pubsub-worker.ts'), redisUrl];
  if (mode !== undefined) args.push(mode);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let out = '';
  const hello = await new Promise<{ port: number; instance: string }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { port: number; instance: string });
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before listening:\n${err}`)));
  });
  return {
    ...hello,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}
