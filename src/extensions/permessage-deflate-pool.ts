/**
 * Pools of permessage-deflate streams without context takeover, shared by every connection
 * of a process (PerMessageDeflate's `sharedCompressor`). A connection takes a stream for one
 * message and gives it back reset, so an idle connection holds no zlib memory, and the pool
 * holds only as many streams as messages are in progress at once (plus a few idle ones).
 */
import type { Backend, Deflater, Inflater } from '../backend';

/** Idle streams a pool keeps for reuse; more are closed when given back. */
const MAX_IDLE = 4;

/** Streams of one backend and one configuration. */
export class StreamPool<T extends Inflater | Deflater> {
  private readonly idle: T[] = [];
  constructor(private readonly create: () => T) {}

  take(): T {
    return this.idle.pop() ?? this.create();
  }

  /** `stream` must be between messages (reset). */
  give(stream: T): void {
    if (this.idle.length < MAX_IDLE) this.idle.push(stream);
    else stream.close();
  }

  drain(): void {
    for (const s of this.idle.splice(0)) s.close();
  }
}

const pools = new Map<string, StreamPool<Inflater | Deflater>>();

/** The pool for `key` (a configuration) of `backend`, created on first use. */
export function sharedPool<T extends Inflater | Deflater>(backend: Backend, key: string, create: () => T): StreamPool<T> {
  const full = `${backend.name}/${key}`;
  let p = pools.get(full) as StreamPool<T> | undefined;
  if (p === undefined) {
    p = new StreamPool(create);
    pools.set(full, p as unknown as StreamPool<Inflater | Deflater>);
  }
  return p;
}

/** Closes every idle stream of every pool. */
export function drainSharedPools(): void {
  for (const p of pools.values()) p.drain();
  pools.clear();
}
