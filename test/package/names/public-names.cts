// Type-checked by test/package/public-names.test.ts (a .cts file, outside tsconfig.test.json's include) with 'wscore' mapped to src/index.ts:
// the sans-IO core's Message and ConnectionOptions are the package's, io's carry names of
// their own (ReceivedMessage, WebSocketOptions). Never run.
import { BytesMessage, Connection, ConnectionType, TextMessage, type ConnectionOptions, type Message, type ReceivedMessage, type WebSocketOptions } from 'wscore';

// Message is the sans-IO event class (protocol/events.ts), generic over its data.
const text: Message<string> = new TextMessage({ data: 'hi' });
const bytes: Message<Uint8Array> = new BytesMessage({ data: new Uint8Array(1) });
// @ts-expect-error a string is io's ReceivedMessage, not the sans-IO Message
const notAMessage: Message<string> = 'hi';

// ConnectionOptions is the sans-IO Connection's (a logger, maxPayload, maskKey).
const options: ConnectionOptions = { maxPayload: 1024, logger: console, maskKey: () => new Uint8Array(4) };
const connection = new Connection(ConnectionType.SERVER, [], undefined, options);
// @ts-expect-error closeTimeout is a WebSocket option (WebSocketOptions), not the sans-IO Connection's
const notConnectionOptions: ConnectionOptions = { closeTimeout: 1000 };

const received: ReceivedMessage = 'hi';
const wsOptions: WebSocketOptions = { closeTimeout: 1000, maxPayload: 1024 };

export { bytes, connection, notAMessage, notConnectionOptions, received, text, wsOptions };
