/**
 * Mode "fuzzingserver": the runner is the server and tests a WebSocket client. As with
 * Autobahn, the client under test connects to /runCase?case=<id>&agent=<name> and echoes
 * every message; the case runs from the moment the handshake is done. The result of each
 * (agent, case) is handed to whoever waits for it (Autobahn writes it into its report,
 * which /updateReports renders; the runner collects the results directly).
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { CaseRun, type CaseDef } from './case-run';
import { acceptFor } from './fuzzing-client';
import { acceptHeader, acceptedParams, parseOffers, type DeflateParams } from './pmd';
import { caseResult, type CaseResult } from './result';
import { FuzzSession, type Timing } from './session';

export class FuzzingServer {
  private readonly server = http.createServer((_req, res) => res.writeHead(404).end());
  private readonly waiting = new Map<string, (r: CaseResult) => void>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly cases: Map<string, CaseDef>, private readonly timing: Timing, private readonly hardCapMs: number) {
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** The result of `caseId` for `agent`, once its connection is gone. */
  result(caseId: string, agent: string): Promise<CaseResult> {
    return new Promise((resolve) => this.waiting.set(`${agent}/${caseId}`, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private refuse(socket: Socket, status: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const def = url.pathname === '/runCase' ? this.cases.get(url.searchParams.get('case') ?? '') : undefined;
    const agent = url.searchParams.get('agent') ?? 'unknown';
    const key = req.headers['sec-websocket-key'];
    if (def === undefined) return this.refuse(socket, '404 Not Found');
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13' || !/websocket/i.test(req.headers.upgrade ?? '')) {
      return this.refuse(socket, '400 Bad Request');
    }
    let deflate: DeflateParams | null = null;
    const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`];
    const accepted = def.deflate?.serverAccept(parseOffers(req.headers['sec-websocket-extensions'])) ?? null;
    if (accepted !== null) {
      lines.push(`Sec-WebSocket-Extensions: ${acceptHeader(accepted)}`);
      deflate = acceptedParams(accepted);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    this.sockets.add(socket);
    const session = new FuzzSession(socket, true, deflate, this.timing);
    const run = new CaseRun(def, session);
    const cap = setTimeout(() => session.dropConnection(true), this.hardCapMs);
    session.hooks = {
      onMessage: (payload, binary) => run.onMessage(payload, binary),
      onPong: (payload) => run.onPong(payload),
      onLost: () => {
        clearTimeout(cap);
        this.sockets.delete(socket);
        run.evaluate();
        const key = `${agent}/${def.id}`;
        this.waiting.get(key)?.(caseResult(run));
        this.waiting.delete(key);
      },
    };
    def.onOpen(run);
    session.feed(head);
  }
}
