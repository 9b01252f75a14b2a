#!/usr/bin/python3
"""wsproto (Debian python3-wsproto, sans-IO) driven over a real TCP socket as a client of
wscore's command-protocol server (test/interop/helpers.ts). Run by
test/interop/wsproto-socket.test.ts. (test/interop/wsproto-sansio.test.ts covers wsproto over
pipes against the sans-IO core; this is the Node server on a socket.)

Usage: wsproto_socket_peer.py URL --deflate on|off
Scenarios (one connection each, to URL/wsproto/<scenario>): messages, ping, client-close,
server-close, server-going-away. With --deflate on, wsproto offers its PerMessageDeflate.
"""
import argparse
import collections
import socket
import sys
from urllib.parse import urlparse

from interop_common import client_messages, import_failed, pattern, run_all, words

try:
    from wsproto import ConnectionType, WSConnection
    from wsproto.connection import ConnectionState
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Message,
        Ping,
        Pong,
        Request,
        TextMessage,
    )
    from wsproto.extensions import PerMessageDeflate
    from wsproto.frame_protocol import Opcode
except ImportError as exc:
    import_failed(exc)

TIMEOUT = 20

# Count the compressed messages received (RSV1 on a message's first frame, RFC 7692 §6).
_inbound_header = PerMessageDeflate.frame_inbound_header


def _counting_inbound_header(self, proto, opcode, rsv, payload_length):
    if rsv.rsv1 and opcode in (Opcode.TEXT, Opcode.BINARY):
        self.compressed_in = getattr(self, "compressed_in", 0) + 1
    return _inbound_header(self, proto, opcode, rsv, payload_length)


PerMessageDeflate.frame_inbound_header = _counting_inbound_header


class Client:
    """One wsproto client connection over a blocking socket."""

    def __init__(self, base, scenario, deflate):
        url = urlparse(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=TIMEOUT)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events = collections.deque()
        self.pings = []
        self.extension = PerMessageDeflate() if deflate else None
        self.send(Request(host=f"{url.hostname}:{url.port}", target=f"/wsproto/{scenario}",
                          extensions=[self.extension] if deflate else []))
        event = self.next_event()
        if not isinstance(event, AcceptConnection):
            raise RuntimeError(f"handshake failed: {event!r}")
        self.accepted = event

    def send(self, event):
        self.sock.sendall(self.ws.send(event))

    def next_event(self):
        while not self.events:
            data = self.sock.recv(1 << 16)
            self.ws.receive_data(data or None)
            self.events.extend(self.ws.events())
            if not data and not self.events:
                raise EOFError("the server closed the connection")
        return self.events.popleft()

    def next_non_ping(self):
        """The next event other than a ping (pings are answered, as a client must)."""
        while True:
            event = self.next_event()
            if isinstance(event, Ping):
                self.pings.append(event.payload)
                self.send(event.response())
                continue
            return event

    def recv_message(self, s):
        """A whole message (wsproto may hand it over in parts): str or bytes."""
        parts = []
        while True:
            event = self.next_non_ping()
            if not isinstance(event, Message):
                s.check(False, f"expected a message, got {type(event).__name__}")
                return None
            parts.append(event.data)
            if event.message_finished:
                return "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)

    def closing_handshake_from_peer(self):
        """Waits for the server's close frame, answers it, returns (code, reason)."""
        event = self.next_non_ping()
        if not isinstance(event, CloseConnection):
            raise RuntimeError(f"expected a close, got {event!r}")
        self.send(event.response())
        return int(event.code), event.reason

    def wait_eof(self, s):
        s.equal(self.sock.recv(1), b"", "the server closed TCP after the closing handshake")
        self.sock.close()


def send_message(c, msg, finished=True):
    c.send(TextMessage(data=msg, message_finished=finished) if isinstance(msg, str) else BytesMessage(data=msg, message_finished=finished))


def scenario_messages(s, base, deflate):
    c = Client(base, "messages", deflate)
    s.info["extensions"] = [str(e.name) for e in c.accepted.extensions]
    if deflate:
        s.check(bool(c.accepted.extensions), "permessage-deflate negotiated")
    for name, msg in client_messages():
        send_message(c, msg)
        s.equal(c.recv_message(s), msg, f"echo of {name}")
    for piece, last in (("frag", False), ("ment ", False), ("\u20ac", True)):
        send_message(c, piece, last)
    s.equal(c.recv_message(s), "fragment \u20ac", "echo of a fragmented text")
    send_message(c, b"ab", False)
    send_message(c, b"cd", True)
    s.equal(c.recv_message(s), b"abcd", "echo of a fragmented binary")
    text = words(10000, 2)
    send_message(c, f"cmd:fragment:5:{text}")
    s.equal(c.recv_message(s), text, "a text message the server sent in 5 frames")
    send_message(c, "cmd:pattern:1000000:7")
    s.equal(c.recv_message(s), pattern(1000000), "a binary message the server sent in 7 frames")
    if deflate:
        s.info["compressed_in"] = getattr(c.extension, "compressed_in", 0)
    c.send(CloseConnection(code=1000))
    s.equal(type(c.next_non_ping()).__name__, "CloseConnection", "the server's close frame")
    c.wait_eof(s)


def scenario_ping(s, base, deflate):
    c = Client(base, "ping", deflate)
    c.send(Ping(payload=b"py-ping"))
    event = c.next_non_ping()
    s.check(isinstance(event, Pong) and event.payload == b"py-ping", f"the pong: {event!r}")
    send_message(c, "cmd:ping:srv-ping")
    s.equal(c.recv_message(s), "pong:srv-ping", "the server saw our pong")
    s.equal(c.pings, [b"srv-ping"], "the server's ping")
    c.send(CloseConnection(code=1000))
    c.next_non_ping()
    c.wait_eof(s)


def scenario_client_close(s, base, deflate):
    c = Client(base, "client-close", deflate)
    c.send(CloseConnection(code=4000, reason="client bye"))
    event = c.next_non_ping()
    s.check(isinstance(event, CloseConnection), f"the server's close frame: {event!r}")
    s.equal((int(event.code), event.reason), (4000, "client bye"), "the echoed close code and reason")
    s.equal(c.ws.state, ConnectionState.CLOSED, "wsproto's state")
    c.wait_eof(s)


def server_closes(s, base, deflate, scenario, code, reason):
    c = Client(base, scenario, deflate)
    send_message(c, f"cmd:close:{code}:{reason}")
    s.equal(c.closing_handshake_from_peer(), (code, reason), "the server's close code and reason")
    c.wait_eof(s)


def scenario_server_close(s, base, deflate):
    server_closes(s, base, deflate, "server-close", 4001, "server bye")


def scenario_server_going_away(s, base, deflate):
    server_closes(s, base, deflate, "server-going-away", 1001, "going away")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--deflate", choices=["on", "off"], default="off")
    args = parser.parse_args()
    run_all([scenario_messages, scenario_ping, scenario_client_close, scenario_server_close, scenario_server_going_away],
            args.url, args.deflate == "on")
