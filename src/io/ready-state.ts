/**
 * The readyState values of a connection (WHATWG HTML §9.3.1 "The WebSocket interface", as
 * ws). A module of their own so that the sender can name them without importing the connection,
 * which imports the sender.
 */

/** readyState: the opening handshake is in progress. */
export const CONNECTING = 0;
/** readyState: messages can be sent and received. */
export const OPEN = 1;
/** readyState: the closing handshake has begun. */
export const CLOSING = 2;
/** readyState: the connection is closed. */
export const CLOSED = 3;
