/**
 * Per-topic history in Redis Streams, for recovery (docs/scale-out.md). A topic with history
 * has, next to its shard channel `<prefix>:{<topic>}` (same hash slot):
 *   `<channel>:h` a stream, one entry per publish: b (1: binary), p (the previous entry's id:
 *                 lets a reader prove nothing was trimmed between two offsets), d (payload);
 *                 trimmed with `XADD MAXLEN ~ N`;
 *   `<channel>:m` a hash: epoch (random, set once; a history lost with Redis gets a new
 *                 one, which voids every older offset) and last (the newest entry id).
 * A publish is one Lua script (atomic), so the stream order is the delivery order and the
 * offset travels with the live message.
 */
export type { HistoryEntry, RecoverResult } from './pubsub';

/** Entries read per XRANGE while recovering. */
export const HISTORY_PAGE = 512;

export function historyKeys(channel: string): { stream: string; meta: string } {
  return { stream: `${channel}:h`, meta: `${channel}:m` };
}

/** A Redis stream id, `<ms>-<seq>`: anything else cannot be an offset of ours. */
export function isStreamId(s: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(s);
}

/** Compares two stream ids `<ms>-<seq>` numerically. */
export function compareOffsets(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

// KEYS: stream, meta. ARGV: channel, maxlen, header (bus header up to the position), binary
// flag, payload, a fresh epoch (used only when the topic has none). Returns the new id.
export const PUBLISH_WITH_HISTORY = `
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then epoch = ARGV[6]; redis.call('HSET', KEYS[2], 'epoch', epoch) end
local prev = redis.call('HGET', KEYS[2], 'last') or '0-0'
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'b', ARGV[4], 'p', prev, 'd', ARGV[5])
redis.call('HSET', KEYS[2], 'last', id)
redis.call('SPUBLISH', ARGV[1], ARGV[3] .. string.char(#epoch) .. epoch .. string.char(#id) .. id .. ARGV[5])
return id
`;

// KEYS: stream, meta. ARGV: a fresh epoch. Returns { epoch, last id or '0-0' }.
export const POSITION = `
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then epoch = ARGV[1]; redis.call('HSET', KEYS[2], 'epoch', epoch) end
return { epoch, redis.call('HGET', KEYS[2], 'last') or '0-0' }
`;
