#!/usr/bin/env node
/**
 * The `wscore` command:
 * - `wscore serve [--port 8080] [--host 127.0.0.1] [--echo | --broadcast] [--deflate] [--path P]`
 * - `wscore connect URL [-H "Name: value"]... [-s subprotocol]... [--json] [--origin O] [-k]`
 *   interactive like wscat: typed lines are sent, messages printed; exits with the close code
 *   (1000 -> 0, 1001..1015 -> 1..15, anything else -> 1).
 * - `wscore bench [--seconds N]` — a short self-benchmark on loopback.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';

import { backendName } from './backend';
import { WebSocketServer, connect, type WebSocket } from './io';
import { runBench } from './io/bench';

const USAGE = `usage:
  wscore serve [--port 8080] [--host 127.0.0.1] [--echo | --broadcast] [--deflate] [--path /]
  wscore connect URL [-H "Name: value"]... [-s subprotocol]... [--json] [--origin O] [-k] [--no-deflate]
  wscore bench [--seconds 1]
`;

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

/** `wscore serve`: resolves with the server once it listens. */
export async function serveCommand(args: string[], io: CliIO = processIO): Promise<WebSocketServer> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', short: 'p', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      echo: { type: 'boolean', default: false },
      broadcast: { type: 'boolean', default: false },
      deflate: { type: 'boolean', default: false },
      path: { type: 'string' },
    },
    strict: true,
  });
  if (values.echo && values.broadcast) throw new Error('--echo and --broadcast exclude each other');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${values.port}`);
  const mode = values.broadcast ? 'broadcast' : 'echo';
  const wss = new WebSocketServer({ port, host: values.host, perMessageDeflate: values.deflate, path: values.path });
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    if (mode === 'echo') ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    else ws.on('message', (data, isBinary) => wss.broadcast(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      wss.removeListener('error', reject);
      resolve();
    });
  });
  const addr = wss.address();
  const actual = addr !== null && typeof addr === 'object' ? addr.port : port;
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  io.stdout.write(
    `wscore ${mode} server listening on ws://${host}:${actual}${values.path ?? '/'} (backend: ${backendName}${values.deflate ? ', permessage-deflate' : ''})\n`,
  );
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
  if (url === undefined) throw new Error('connect needs a URL');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new Error(`invalid header ${JSON.stringify(h)} (expected "Name: value")`);
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

/** Runs the CLI with `argv` (without node and the script). */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        const wss = await serveCommand(rest);
        const stop = (): void => {
          void wss.close().then(() => process.exit(0));
          setTimeout(() => process.exit(0), 2000).unref();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        break;
      }
      case 'connect':
        await connectCommand(rest);
        // stdin may still hold the event loop open after the connection closed.
        process.stdin.destroy();
        break;
      case 'bench': {
        const { values } = parseArgs({ args: rest, options: { seconds: { type: 'string', default: '1' } }, strict: true });
        await runBench({ seconds: Number(values.seconds), log: (line) => console.log(line) });
        break;
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        break;
      default:
        process.stderr.write(`wscore: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        process.exitCode = 2;
    }
  } catch (err) {
    process.stderr.write(`wscore: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exitCode = 2;
  }
}

if (require.main === module) void main(process.argv.slice(2));
