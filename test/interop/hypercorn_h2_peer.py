"""An RFC 8441 server peer: Hypercorn (Debian python3-hypercorn; HTTP/2 by python3-h2, the
WebSocket by wsproto) serving an ASGI echo app, for test/interop/hypercorn-h2.test.ts.

Usage: hypercorn_h2_peer.py CERT KEY   (TLS, ALPN h2)   or   hypercorn_h2_peer.py   (h2c).
Hypercorn advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and takes CONNECT streams as WebSockets.

Prints {"event": "listening", "port": N}, then per connection {"event": "connection",
"path", "http_version", "subprotocols"} and {"event": "disconnect", "path", "code"}. Text
"close:CODE" makes the server close with CODE; anything else is echoed. Exits when stdin ends.
"""
import asyncio
import socket
import sys

from interop_common import emit, import_failed

try:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
except ImportError as exc:  # pragma: no cover - reported to the test as exit code 3
    import_failed(exc)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        return
    path = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    offered = scope.get("subprotocols", [])
    emit(event="connection", path=path, http_version=scope["http_version"], subprotocols=offered)
    await receive()  # websocket.connect
    accept = {"type": "websocket.accept"}
    if offered:
        accept["subprotocol"] = offered[0]
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            emit(event="disconnect", path=path, code=message.get("code"))
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            await send({"type": "websocket.close", "code": int(text.split(":")[1])})
            emit(event="disconnect", path=path, code="sent " + text.split(":")[1])
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes")})


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.websocket_max_message_size = 32 * 1024 * 1024
    config.accesslog = None
    config.errorlog = "-"
    if len(sys.argv) >= 3:
        config.certfile = sys.argv[1]
        config.keyfile = sys.argv[2]
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)

    async def until_stdin_closed():
        await stdin_closed

    emit(event="listening", port=sock.getsockname()[1])
    await serve(app, config, shutdown_trigger=until_stdin_closed)


if __name__ == "__main__":
    asyncio.run(main())
