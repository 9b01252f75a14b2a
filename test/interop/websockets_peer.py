#!/usr/bin/python3
"""Python websockets (Debian python3-websockets, asyncio API of 10.x) as a peer of wscore,
over real sockets on 127.0.0.1. Run by test/interop/python-websockets.test.ts.

Usage:
  websockets_peer.py client URL --deflate on|off
      The client scenarios against a command-protocol server (test/interop/helpers.ts):
      messages, ping, client-close, server-close, server-going-away. One JSON line each.
  websockets_peer.py pmd-client URL --config JSON
      Connects with ClientPerMessageDeflateFactory(**config["factory"]), echoes the
      permessage-deflate messages (pmd_messages) and prints what was agreed.
  websockets_peer.py server --config JSON
      A command-protocol server; config["factory"]: ServerPerMessageDeflateFactory
      arguments, or null for no compression. Prints {"event": "listening", "port": N}, then
      {"event": "closed", ...} per connection; exits when stdin closes.
"""
import argparse
import asyncio
import json
import sys

from interop_common import Scenario, client_messages, emit, import_failed, pattern, run_all, words

try:
    import websockets
    from websockets.extensions.permessage_deflate import (
        ClientPerMessageDeflateFactory,
        PerMessageDeflate,
        ServerPerMessageDeflateFactory,
    )
    from websockets.frames import OP_CONT
except ImportError as exc:
    import_failed(exc)

# Count the compressed messages each connection receives (RSV1 on a message's first frame,
# RFC 7692 §6), to prove the peer really compressed: wrap the extension's decode().
_decode = PerMessageDeflate.decode


def _counting_decode(self, frame, *, max_size=None):
    if frame.rsv1 and frame.opcode is not OP_CONT:
        self.compressed_in = getattr(self, "compressed_in", 0) + 1
    return _decode(self, frame, max_size=max_size)


PerMessageDeflate.decode = _counting_decode

TIMEOUT = 20


def agreed(ws):
    """This side's view of the negotiated permessage-deflate, or None."""
    for ext in ws.extensions:
        if isinstance(ext, PerMessageDeflate):
            return dict(
                remote_no_context_takeover=ext.remote_no_context_takeover,
                local_no_context_takeover=ext.local_no_context_takeover,
                remote_max_window_bits=ext.remote_max_window_bits,
                local_max_window_bits=ext.local_max_window_bits,
                compressed_in=getattr(ext, "compressed_in", 0),
            )
    return None


def pmd_messages(seed):
    """Messages for the permessage-deflate matrix (mirrored in pmdMessages() of the tests)."""
    big = words(200_000, seed)
    return [
        big,
        big,  # the same again: with context takeover it compresses against the first
        "hi",
        "",
        words(3000, seed + 1).encode(),
        pattern(70000),
        [words(5000, seed + 2), "-", words(7000, seed + 3)],  # fragmented
    ]


def whole(msg):
    return "".join(msg) if isinstance(msg, list) else msg


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


# --- client scenarios ------------------------------------------------------------------------


def client_kwargs(deflate):
    return dict(compression="deflate" if deflate else None, max_size=None, ping_interval=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT)


async def scenario_messages(s, base, deflate):
    async with websockets.connect(base + "/websockets/messages", **client_kwargs(deflate)) as ws:
        s.info["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions")
        for name, msg in client_messages():
            await ws.send(msg)
            s.equal(await recv(ws), msg, f"echo of {name}")
        await ws.send(["frag", "ment ", "\u20ac"])  # an iterable is sent as fragments
        s.equal(await recv(ws), "fragment \u20ac", "echo of a fragmented text")
        await ws.send([b"ab", b"", b"cd"])
        s.equal(await recv(ws), b"abcd", "echo of a fragmented binary")
        text = words(10000, 2)
        await ws.send(f"cmd:fragment:5:{text}")
        s.equal(await recv(ws), text, "a text message the server sent in 5 frames")
        await ws.send("cmd:pattern:1000000:7")
        s.equal(await recv(ws), pattern(1000000), "a binary message the server sent in 7 frames")
        if deflate:
            a = agreed(ws)
            s.check(a is not None, "permessage-deflate negotiated")
            s.info["agreed"] = a
    s.equal(ws.close_code, 1000, "close code")


async def scenario_ping(s, base, deflate):
    async with websockets.connect(base + "/websockets/ping", **client_kwargs(deflate)) as ws:
        waiter = await ws.ping(b"py-ping")
        await asyncio.wait_for(waiter, TIMEOUT)  # resolves when the matching pong arrives
        await ws.send("cmd:ping:srv-ping")
        s.equal(await recv(ws), "pong:srv-ping", "the server saw our automatic pong")


async def scenario_client_close(s, base, deflate):
    ws = await websockets.connect(base + "/websockets/client-close", **client_kwargs(deflate))
    await ws.close(4000, "client bye")
    s.equal(ws.close_code, 4000, "close code echoed by the server")
    s.equal(ws.close_reason, "client bye", "close reason echoed by the server")


async def server_closes(s, base, deflate, path, code, reason):
    ws = await websockets.connect(base + path, **client_kwargs(deflate))
    await ws.send(f"cmd:close:{code}:{reason}")
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    s.equal(ws.close_code, code, "close code")
    s.equal(ws.close_reason, reason, "close reason")


async def scenario_server_close(s, base, deflate):
    await server_closes(s, base, deflate, "/websockets/server-close", 4001, "server bye")


async def scenario_server_going_away(s, base, deflate):
    await server_closes(s, base, deflate, "/websockets/server-going-away", 1001, "going away")


def sync(fn):
    def run(s, *args):
        asyncio.run(fn(s, *args))

    run.__name__ = fn.__name__
    return run


# --- permessage-deflate client ---------------------------------------------------------------


async def pmd_client(base, config):
    s = Scenario("pmd")
    factory = ClientPerMessageDeflateFactory(**config["factory"])
    async with websockets.connect(
        base + "/websockets/pmd", compression=None, extensions=[factory], max_size=None, ping_interval=None, open_timeout=TIMEOUT
    ) as ws:
        s.info["response"] = ws.response_headers.get("Sec-WebSocket-Extensions")
        messages = pmd_messages(config.get("seed", 1))
        for i, msg in enumerate(messages):
            await ws.send(msg)
            s.equal(await recv(ws), whole(msg), f"echo of message {i}")
        s.info["agreed"] = agreed(ws)
        s.info["messages"] = len(messages)
    return s.report()


# --- server ---------------------------------------------------------------------------------


async def serve(config):
    factory = config.get("factory")
    extensions = [ServerPerMessageDeflateFactory(**factory)] if factory is not None else None

    async def handler(ws, path=None):
        try:
            await commands(ws)
        except websockets.ConnectionClosed:
            pass  # codes other than 1000/1001 end the loop with this; the report tells the code
        emit(event="closed", path=ws.path, close_code=ws.close_code, close_reason=ws.close_reason,
             response=ws.response_headers.get("Sec-WebSocket-Extensions"), agreed=agreed(ws))

    async def commands(ws):
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("cmd:"):
                _, name, a, *rest = msg.split(":", 3) + [""]
                b = rest[0]
                if name == "fragment":
                    n = int(a)
                    step = -(-len(b) // n)
                    await ws.send([b[i * step : (i + 1) * step] for i in range(n)])
                elif name == "pattern":
                    data, n = pattern(int(a)), int(b)
                    step = -(-len(data) // n)
                    await ws.send([data[i * step : (i + 1) * step] for i in range(n)])
                elif name == "ping":
                    waiter = await ws.ping(a.encode())
                    await asyncio.wait_for(waiter, TIMEOUT)
                    await ws.send(f"pong:{a}")
                elif name == "close":
                    await ws.close(int(a), b)
                else:
                    await ws.send(f"error:unknown command {msg}")
            else:
                await ws.send(msg)

    loop = asyncio.get_running_loop()
    server = await websockets.serve(
        handler, "127.0.0.1", 0, compression=None, extensions=extensions, max_size=None, ping_interval=None, close_timeout=TIMEOUT
    )
    emit(event="listening", port=server.sockets[0].getsockname()[1])
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["client", "pmd-client", "server"])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--deflate", choices=["on", "off"], default="on")
    parser.add_argument("--config", default="{}")
    args = parser.parse_args()
    config = json.loads(args.config)
    if args.mode == "client":
        scenarios = [scenario_messages, scenario_ping, scenario_client_close, scenario_server_close, scenario_server_going_away]
        run_all([sync(fn) for fn in scenarios], args.url, args.deflate == "on")
    elif args.mode == "pmd-client":
        sys.exit(0 if asyncio.run(pmd_client(args.url, config)) else 1)
    else:
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()
