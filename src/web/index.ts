/**
 * `wscore/web`: the browser's WebSocket API (WebSockets Standard) for Node, over wscore's
 * client. `import { WebSocket } from 'wscore/web'` (or `require('wscore/web')`).
 */
export { WebSocket, type BinaryType, type WebSocketData, type WebSocketInit } from './websocket';
export { CloseEvent, ErrorEvent, MessageEvent, type CloseEventInit, type ErrorEventInit } from './events';
