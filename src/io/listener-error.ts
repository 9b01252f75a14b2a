/**
 * Tells exceptions thrown by listeners of WebSocket events from wscore's own errors.
 * Listener exceptions propagate as with ws (uncaught, from the socket callback that emitted
 * the event); the receive path must still tell them from its own errors, whatever their
 * class, to keep its state consistent before letting them through (./receiver.ts).
 */

/** The last exception seen leaving a listener (one slot for the process: only identity is compared). */
let listenerError: unknown = undefined;

/** Marks `err` as thrown by a listener; returns it (for `throw markListenerError(err)`). */
export function markListenerError(err: unknown): unknown {
  listenerError = err;
  return err;
}

/** Whether `err` came out of a listener (and forgets it). */
export function wasThrownByListener(err: unknown): boolean {
  if (err !== listenerError || err === undefined) return false;
  listenerError = undefined;
  return true;
}
