/**
 * One shared timer service for every connection of the process: handshake timeouts, close
 * timeouts and heartbeats.
 *
 * Why not one `setTimeout` per connection: a server with 50k sockets and a heartbeat would
 * allocate and re-arm a Node `Timeout` object per socket per interval. Here a connection owns
 * a few {@link TimerEntry} objects for its whole life (no allocation when re-armed), and the
 * entries of one duration sit in one intrusive doubly linked list in deadline order — entries
 * with equal durations are armed in time order, so appending keeps the list sorted (the same
 * trick Node's own timer lists use). Each list has a single unref'd Node timer set to its
 * head's deadline. Arm, cancel and fire are O(1).
 *
 * Entries that fall due within a small slack of each other fire in the same wake-up, so
 * 10k heartbeats spread over 30 s cost far fewer than 10k wake-ups.
 */

/** The callback of an entry. Receives the entry's owner so no per-arm closure is needed. */
export type TimerCallback<T> = (owner: T) => void;

/**
 * A reusable timer slot. Create one per purpose per owner (e.g. one per connection for the
 * close timeout) and arm/cancel it as often as needed.
 */
export class TimerEntry<T = unknown> implements TimerNode {
  /** @internal */ deadline = 0;
  /** @internal */ prev: TimerNode | null = null;
  /** @internal */ next: TimerNode | null = null;
  /** @internal */ list: TimerList | null = null;

  constructor(
    readonly owner: T,
    readonly callback: TimerCallback<T>,
  ) {}

  /** Whether the entry is armed. */
  get armed(): boolean {
    return this.list !== null;
  }

  /** Arms the entry to fire `ms` milliseconds from now (re-arms it if already armed). */
  arm(ms: number, wheel: TimerWheel = sharedTimers): void {
    wheel.arm(this, ms);
  }

  /** Disarms the entry; a no-op if it is not armed. */
  cancel(): void {
    if (this.list !== null) this.list.remove(this);
  }

  /** @internal */
  fire(): void {
    this.callback(this.owner);
  }
}

/** @internal What a timer list links: an entry of any owner type. */
interface TimerNode {
  deadline: number;
  prev: TimerNode | null;
  next: TimerNode | null;
  list: TimerList | null;
  fire(): void;
}

/** @internal One duration's list of entries, in deadline order. */
class TimerList {
  head: TimerNode | null = null;
  tail: TimerNode | null = null;
  size = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly wheel: TimerWheel,
    readonly duration: number,
  ) {}

  append(entry: TimerNode): void {
    entry.list = this;
    entry.prev = this.tail;
    entry.next = null;
    if (this.tail !== null) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.size++;
    if (this.timer === null) this.schedule();
  }

  remove(entry: TimerNode): void {
    if (entry.prev !== null) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.list = null;
    this.size--;
    // The Node timer is left alone: when it fires early (its head was removed) it re-arms
    // for the new head. Clearing and re-creating it on every cancel would cost more.
    if (this.size === 0) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.wheel.dropList(this);
    }
  }

  private schedule(): void {
    const head = this.head;
    if (head === null) return;
    const delay = Math.max(0, head.deadline - this.wheel.now());
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), delay);
    // Timers never keep the process alive: a server or socket does that.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = this.wheel.now();
    // Entries due within the slack fire now too, batching wake-ups.
    const limit = now + this.wheel.slack(this.duration);
    let entry = this.head;
    while (entry !== null && entry.deadline <= limit) {
      this.remove(entry);
      try {
        entry.fire();
      } catch (err) {
        // A timer callback must not kill the wheel for everyone else.
        process.nextTick(() => {
          throw err;
        });
      }
      entry = this.head;
    }
    // A callback may have re-armed into this list, which then scheduled itself already.
    if (this.head !== null && this.timer === null) this.schedule();
  }
}

/**
 * A set of timer lists keyed by duration. Most programs use the shared instance
 * {@link sharedTimers}; tests may create their own.
 */
export class TimerWheel {
  private readonly lists = new Map<number, TimerList>();

  /** Milliseconds, monotonic. Overridable for tests. */
  now(): number {
    return performance.now();
  }

  /**
   * How early an entry of this duration may fire to share a wake-up with its neighbours:
   * 1/32 of the duration, at most 100 ms (a 30 s heartbeat may fire ~100 ms early; a 200 ms
   * test timeout at most ~6 ms).
   */
  slack(duration: number): number {
    return Math.min(100, duration / 32);
  }

  /** @internal */
  arm(entry: TimerNode, ms: number): void {
    if (entry.list !== null) entry.list.remove(entry);
    const duration = Math.max(1, Math.ceil(ms));
    let list = this.lists.get(duration);
    if (list === undefined) {
      list = new TimerList(this, duration);
      this.lists.set(duration, list);
    }
    entry.deadline = this.now() + duration;
    list.append(entry);
  }

  /** @internal */
  dropList(list: TimerList): void {
    if (list.size === 0 && this.lists.get(list.duration) === list) this.lists.delete(list.duration);
  }

  /** How many entries are armed (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.size;
    return n;
  }
}

/** The process-wide timer wheel used by every WebSocket and WebSocketServer. */
export const sharedTimers = new TimerWheel();
