/**
 * wscore: WebSocket (RFC 6455, RFC 7692) for Node.js.
 */
export { backend, backendName, nativeLoadError, Utf8State } from './backend';
export type { Backend, BackendName } from './backend';
