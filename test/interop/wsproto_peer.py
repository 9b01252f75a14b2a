"""A wsproto (Python, sans-IO) peer for wscore's interop test, spoken over pipes.

Usage: wsproto_peer.py client|server [--scenario NAME] [--split]

Framing on stdin/stdout: each chunk is a 4-byte big-endian length followed by that many
bytes; a chunk of length 0 means "end of stream" (wsproto's receive_data(None)).
With --split every byte this peer sends goes out as its own chunk.
Every wsproto event this peer sees is written to stderr as one JSON line, so the test can
check what arrived; the last line is {"event": "done", "state": ...}.

Scenarios (what this peer does on top of answering pings and closes):
  server normal   accept subprotocol "chat", echo every message part as it arrives.
  server reject   answer 403 with a body.
  server close    accept, then close first (4000 "as you wish") after the first message.
  client normal   offer ["chat", "other"], send text, bytes, a fragmented text and a ping;
                  close (1000 "bye") when the pong arrives.
"""
import argparse
import json
import struct
import sys

try:
    from wsproto import ConnectionType, WSConnection
    from wsproto.connection import ConnectionState
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Ping,
        Pong,
        RejectConnection,
        RejectData,
        Request,
        TextMessage,
    )
except ImportError as exc:  # the test must fail, not skip: say why loudly
    sys.stderr.write(json.dumps({"event": "import-error", "error": str(exc)}) + "\n")
    sys.exit(3)

stdin = sys.stdin.buffer
stdout = sys.stdout.buffer


def log(**fields):
    sys.stderr.write(json.dumps(fields) + "\n")
    sys.stderr.flush()


def read_chunk():
    """The next chunk, or None at end of stream (length 0 or closed pipe)."""
    head = stdin.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack(">I", head)
    if n == 0:
        return None
    data = stdin.read(n)
    if len(data) < n:
        return None
    return data


def write(data, split):
    if not data:
        return
    pieces = [data[i : i + 1] for i in range(len(data))] if split else [data]
    for piece in pieces:
        stdout.write(struct.pack(">I", len(piece)) + piece)
    stdout.flush()


def describe(event):
    """A JSON-able view of a wsproto event."""
    name = type(event).__name__
    if isinstance(event, Request):
        return dict(event=name, host=event.host, target=event.target,
                    subprotocols=list(event.subprotocols), extensions=list(event.extensions),
                    headers={k.decode("latin1").lower(): v.decode("latin1") for k, v in event.extra_headers})
    if isinstance(event, AcceptConnection):
        return dict(event=name, subprotocol=event.subprotocol,
                    headers={k.decode("latin1").lower(): v.decode("latin1") for k, v in event.extra_headers})
    if isinstance(event, (TextMessage, BytesMessage)):
        data = event.data if isinstance(event, TextMessage) else event.data.hex()
        return dict(event=name, data=data, frame_finished=event.frame_finished,
                    message_finished=event.message_finished)
    if isinstance(event, (Ping, Pong)):
        return dict(event=name, payload=event.payload.hex())
    if isinstance(event, CloseConnection):
        return dict(event=name, code=int(event.code), reason=event.reason)
    if isinstance(event, RejectConnection):
        return dict(event=name, status_code=event.status_code, has_body=event.has_body)
    if isinstance(event, RejectData):
        return dict(event=name, data=event.data.hex(), body_finished=event.body_finished)
    return dict(event=name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["client", "server"])
    parser.add_argument("--scenario", default="normal")
    parser.add_argument("--split", action="store_true")
    args = parser.parse_args()

    client = args.role == "client"
    ws = WSConnection(ConnectionType.CLIENT if client else ConnectionType.SERVER)
    out = lambda data: write(data, args.split)

    if client:
        out(ws.send(Request(host="localhost", target="/interop?x=1", subprotocols=["chat", "other"],
                            extra_headers=[(b"X-Peer", b"wsproto")])))

    messages = 0
    while ws.state not in (ConnectionState.CLOSED, ConnectionState.REJECTING):
        data = read_chunk()
        ws.receive_data(data)
        for event in ws.events():
            log(**describe(event))
            if isinstance(event, Request):
                if args.scenario == "reject":
                    out(ws.send(RejectConnection(status_code=403, headers=[(b"Content-Length", b"10"), (b"X-Why", b"policy")],
                                                 has_body=True)))
                    out(ws.send(RejectData(data=b"forbidden!", body_finished=True)))
                else:
                    out(ws.send(AcceptConnection(subprotocol="chat", extra_headers=[(b"X-Peer", b"wsproto")])))
            elif isinstance(event, AcceptConnection):
                out(ws.send(TextMessage(data="hello from wsproto \u2603")))
                # > 64 KiB: the 8-byte length form; small when split (one pipe chunk per byte is slow)
                out(ws.send(BytesMessage(data=bytes(range(256)) * (4 if args.split else 300))))
                out(ws.send(TextMessage(data="frag", message_finished=False)))
                out(ws.send(TextMessage(data="ment \u20ac", message_finished=True)))
                out(ws.send(Ping(payload=b"cli-ping")))
            elif isinstance(event, Ping):
                out(ws.send(event.response()))
            elif isinstance(event, Pong) and client:
                out(ws.send(CloseConnection(code=1000, reason="bye")))
            elif isinstance(event, CloseConnection):
                if ws.state == ConnectionState.REMOTE_CLOSING:
                    out(ws.send(event.response()))
            elif isinstance(event, (TextMessage, BytesMessage)) and not client:
                out(ws.send(type(event)(data=event.data, message_finished=event.message_finished)))
                if event.message_finished:
                    messages += 1
                if args.scenario == "close" and messages == 1:
                    out(ws.send(CloseConnection(code=4000, reason="as you wish")))
        if data is None:
            break

    log(event="done", state=ws.state.name)
    stdout.write(struct.pack(">I", 0))
    stdout.flush()


if __name__ == "__main__":
    main()
