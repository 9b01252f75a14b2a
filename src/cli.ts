#!/usr/bin/env node
/**
 * The `wscore` command:
 * - `wscore serve [--port 8080] [--host 127.0.0.1] [--echo | --broadcast | --topic T] [--redis URL [--history N]] [--workers N] [--deflate] [--path P] [--verbose] [--stats]`
 * - `wscore connect URL [-H "Name: value"]... [-s subprotocol]... [--json] [--origin O] [-k]`
 *   interactive like wscat: typed lines are sent, messages printed; exits with the close code
 *   (1000 -> 0, 1001..1015 -> 1..15, anything else -> 1).
 * - `wscore bench [--seconds N]` — a short self-benchmark on loopback.
 * - `wscore --version`, `wscore --help`, `wscore <command> --help`.
 * Exit status 2 for a usage error (with the usage text), 1 for a failure (one line).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';

import { backendName } from './backend';
import { packageRoot } from './backend/native';
import { PubSubError, WebSocketServer, connect, redisPubSub, type WebSocket } from './io';
import { runBench } from './io/bench';
import { exitWorkerAfterReport, isServeWorker, runPrimary, tagWorker, takeWorkersOption } from './cli-workers';

const COMMAND_USAGE = {
  serve: `wscore serve [options]: a WebSocket server that echoes (default) or broadcasts
  -p, --port N       port to listen on (default 8080; 0: any free port)
      --host H       address to listen on (default 127.0.0.1)
      --echo         send each message back to its sender (default)
      --broadcast    send each message to every client
      --topic T      a room: every client subscribes to topic T, each message is published to it
      --redis URL    share topics with every server on this Redis (node-redis v5 needed;
                     implies --topic chat unless --topic is given)
      --history N    keep N messages per topic in Redis for recovery (with --redis); clients
                     may subscribe themselves with topic requests (docs/scale-out.md)
      --workers N    N processes (node:cluster) sharing the port; with --redis, topics span
                     them (each 101 response names its worker: X-Wscore-Worker)
      --deflate      negotiate permessage-deflate (RFC 7692)
      --path P       accept connections on this path only
      --verbose      log each connection as it opens and closes
      --stats        print the server's counters (wss.stats()) every second
`,
  connect: `wscore connect URL [options]: an interactive client; typed lines are sent, messages printed
  -H, --header "Name: value"   extra request header (repeatable)
  -s, --subprotocol P          subprotocol to offer (repeatable)
  -o, --origin O               Origin header
  -k, --insecure               do not verify the server's TLS certificate
      --json                   print one JSON object per event
      --no-deflate             do not offer permessage-deflate
  Exit status: 0 for close code 1000, 1..15 for 1001..1015, 1 otherwise.
`,
  bench: `wscore bench [--seconds N]: a short self-benchmark on loopback (default 1 s)
`,
} as const;

const USAGE = `usage:
  wscore serve [--port 8080] [--host 127.0.0.1] [--echo | --broadcast | --topic T] [--redis URL [--history N]] [--workers N] [--deflate] [--path /] [--verbose] [--stats]
  wscore connect URL [-H "Name: value"]... [-s subprotocol]... [--json] [--origin O] [-k] [--no-deflate]
  wscore bench [--seconds 1]
  wscore --version
  wscore <command> --help
`;

/** A mistake in the command line: reported with the usage text and exit status 2. */
class UsageError extends Error {}

/** wscore's version, from its package.json. */
export function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Where a command reads and writes (the process's streams, or a test's). */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  /** Sets the exit status. */
  setExitCode(code: number): void;
}

const processIO: CliIO = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** Maps a close code to a process exit status: 1000 -> 0, 1001..1015 -> 1..15, else 1. */
export function exitStatusFor(code: number): number {
  if (code === 1000) return 0;
  if (code > 1000 && code <= 1015) return code - 1000;
  return 1;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such local address',
};

/** `wscore serve`: resolves with the server once it listens. */
export async function serveCommand(args: string[], io: CliIO = processIO): Promise<WebSocketServer> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', short: 'p', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      echo: { type: 'boolean', default: false },
      broadcast: { type: 'boolean', default: false },
      topic: { type: 'string' },
      redis: { type: 'string' },
      history: { type: 'string' },
      deflate: { type: 'boolean', default: false },
      path: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const topic = values.topic ?? (values.redis !== undefined ? 'chat' : undefined);
  if (Number(values.echo) + Number(values.broadcast) + Number(topic !== undefined) > 1) throw new UsageError('--echo, --broadcast and --topic/--redis exclude each other');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port ${values.port}`);
  const history = values.history === undefined ? undefined : Number(values.history);
  if (history !== undefined && (values.redis === undefined || !Number.isInteger(history) || history < 1)) throw new UsageError('--history takes a positive count, with --redis');
  const mode = topic !== undefined ? 'topic' : values.broadcast ? 'broadcast' : 'echo';
  const pubsub = values.redis === undefined ? undefined : redisPubSub({ url: values.redis, history: history === undefined ? false : { maxLength: history } });
  const wss = new WebSocketServer({ port, host: values.host, perMessageDeflate: values.deflate, path: values.path, pubsub });
  // Redis outages and failed publishes: one line each, the server keeps serving.
  if (pubsub !== undefined) wss.on('error', (err) => void (err instanceof PubSubError && io.stderr.write(`wscore serve: ${err.message}\n`)));
  wss.on('connection', (ws, req) => {
    ws.on('error', () => undefined);
    if (values.verbose) {
      const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      io.stdout.write(`open ${peer} ${req.url ?? '/'}${ws.protocol ? ` (subprotocol ${ws.protocol})` : ''}\n`);
      ws.on('close', (code, reason) => io.stdout.write(`close ${peer} ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}\n`));
    }
    if (mode === 'topic') {
      ws.subscribe(topic!);
      ws.on('message', (data, isBinary) => {
        if (history === undefined || !wss.handleTopicRequest(ws, data, isBinary)) wss.publish(topic!, data as Buffer, { binary: isBinary });
      });
    } else if (mode === 'echo') ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    else ws.on('message', (data, isBinary) => wss.broadcast(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error & { code?: string }): void => {
      // One line saying where and why (EADDRINUSE, EACCES, ...), not a stack.
      const why = LISTEN_ERRORS[err.code ?? ''] ?? err.message;
      reject(new Error(`cannot listen on ${values.host}:${port}: ${why}${err.code !== undefined ? ` (${err.code})` : ''}`));
    };
    wss.once('error', onError);
    wss.once('listening', () => {
      wss.removeListener('error', onError);
      resolve();
    });
  });
  const addr = wss.address();
  const actual = addr !== null && typeof addr === 'object' ? addr.port : port;
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  io.stdout.write(
    `wscore ${mode} server listening on ws://${host}:${actual}${values.path ?? '/'} (backend: ${backendName}${values.deflate ? ', permessage-deflate' : ''}${topic !== undefined ? `, topic ${topic}` : ''}${values.redis !== undefined ? `, redis ${values.redis}` : ''})\n`,
  );
  if (values.stats) {
    // One `name=value` line per second (docs/diagnostics.md lists the counters).
    const timer = setInterval(() => io.stdout.write(`stats ${Object.entries(wss.stats()).map(([k, v]) => `${k}=${v}`).join(' ')}\n`), 1000);
    timer.unref();
    wss.once('close', () => clearInterval(timer));
  }
  return wss;
}

/** `wscore connect`: resolves with the connection once it is closed (null if it never opened). */
export async function connectCommand(args: string[], io: CliIO = processIO): Promise<WebSocket | null> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      header: { type: 'string', short: 'H', multiple: true },
      subprotocol: { type: 'string', short: 's', multiple: true },
      json: { type: 'boolean', default: false },
      origin: { type: 'string', short: 'o' },
      insecure: { type: 'boolean', short: 'k', default: false },
      'no-deflate': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const url = positionals[0];
  if (url === undefined) throw new UsageError('connect needs a URL');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`invalid header ${JSON.stringify(h)} (expected "Name: value")`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const json = values.json;
  const interactive = io.stdin.isTTY === true && !json;
  const print = (obj: Record<string, unknown>, text: string): void => {
    // On a terminal, overwrite the "> " prompt line, then the prompt is drawn again.
    io.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${interactive ? '\r\x1b[K' : ''}${text}\n`);
  };
  let ws: WebSocket;
  try {
    ws = await connect(url, {
      headers,
      protocols: values.subprotocol ?? [],
      origin: values.origin,
      rejectUnauthorized: !values.insecure,
      perMessageDeflate: !values['no-deflate'],
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    print({ type: 'error', message: e.message, code: e.code }, `error: ${e.message}`);
    io.setExitCode(1);
    return null;
  }
  print({ type: 'open', url, protocol: ws.protocol, extensions: ws.extensions }, `connected to ${url}${ws.protocol ? ` (subprotocol ${ws.protocol})` : ''}`);
  const rl = createInterface({ input: io.stdin, output: interactive ? io.stdout : undefined, terminal: interactive });
  if (interactive) rl.setPrompt('> ');
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    if (isBinary) print({ type: 'message', binary: true, data: buf.toString('base64') }, `< <binary ${buf.length} bytes: ${buf.toString('hex').slice(0, 64)}>`);
    else print({ type: 'message', binary: false, data: buf.toString() }, `< ${buf.toString()}`);
    if (interactive) rl.prompt(true);
  });
  ws.on('error', (err) => print({ type: 'error', message: err.message }, `error: ${err.message}`));
  ws.on('close', (code, reason) => {
    print({ type: 'close', code, reason: reason.toString() }, `disconnected (code ${code}${reason.length ? `, reason "${reason.toString()}"` : ''})`);
    io.setExitCode(exitStatusFor(code));
    rl.close();
  });
  rl.on('line', (line) => {
    if (ws.readyState === ws.OPEN) ws.send(line);
    if (interactive) rl.prompt();
  });
  rl.on('close', () => {
    // End of input: close the connection normally and wait for the server's answer.
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
  if (interactive) rl.prompt();
  await ws.closed;
  return ws;
}

/** Whether `err` is a mistake in the command line (ours, or node:util parseArgs's). */
function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_'));
}

/** Runs the CLI with `argv` (without node and the script). */
export async function main(argv: string[], io: CliIO = processIO): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '-v' || command === '--version' || command === 'version') {
    io.stdout.write(`${version()}\n`);
    return;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout.write(USAGE);
    return;
  }
  if (!(command in COMMAND_USAGE)) {
    io.stderr.write(`wscore: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    io.setExitCode(2);
    return;
  }
  const name = command as keyof typeof COMMAND_USAGE;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(COMMAND_USAGE[name]);
    return;
  }
  try {
    switch (name) {
      case 'serve': {
        const split = takeWorkersOption(rest);
        if (split.error !== undefined) throw new UsageError(split.error);
        if (split.workers !== undefined && !isServeWorker()) {
          await runPrimary(split.workers, io);
          break;
        }
        const wss = await serveCommand(split.args, io).catch((err: unknown) => {
          if (split.workers !== undefined) exitWorkerAfterReport(); // its IPC channel would keep it alive
          throw err;
        });
        if (split.workers !== undefined) tagWorker(wss);
        const stop = (): void => {
          void wss.close().then(() => process.exit(0));
          setTimeout(() => process.exit(0), 2000).unref();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        break;
      }
      case 'connect':
        await connectCommand(rest, io);
        // stdin may still hold the event loop open after the connection closed.
        if (io.stdin === process.stdin) process.stdin.destroy();
        break;
      case 'bench': {
        const { values } = parseArgs({ args: rest, options: { seconds: { type: 'string', default: '1' } }, strict: true });
        await runBench({ seconds: Number(values.seconds), log: (line) => io.stdout.write(`${line}\n`) });
        break;
      }
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isUsageError(err)) {
      io.stderr.write(`wscore ${name}: ${message}\n${COMMAND_USAGE[name]}`);
      io.setExitCode(2);
    } else {
      io.stderr.write(`wscore ${name}: ${message}\n`);
      io.setExitCode(1);
    }
  }
}

if (require.main === module) void main(process.argv.slice(2));
