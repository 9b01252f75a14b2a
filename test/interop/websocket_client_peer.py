#!/usr/bin/python3
"""websocket-client (Debian python3-websocket, a synchronous client) against wscore's
command-protocol server (test/interop/helpers.ts) over a socket on 127.0.0.1.
Run by test/interop/websocket-client.test.ts.

Usage: websocket_client_peer.py URL
Scenarios (one connection each, to URL/websocket-client/<scenario>): messages, ping,
client-close, server-close, server-going-away. websocket-client has no permessage-deflate.
Its frame API (ABNF, send_frame) is used for fragments and a hand-made close frame.
"""
import struct
import sys

from interop_common import client_messages, import_failed, pattern, run_all, words

try:
    import websocket
    from websocket import ABNF
except ImportError as exc:
    import_failed(exc)

TIMEOUT = 20


def connect(base, scenario):
    return websocket.create_connection(f"{base}/websocket-client/{scenario}", timeout=TIMEOUT)


def recv_message(s, ws):
    """The next data message as str (text) or bytes (binary)."""
    opcode, data = ws.recv_data()
    if opcode == ABNF.OPCODE_TEXT:
        return data.decode("utf-8")
    s.equal(opcode, ABNF.OPCODE_BINARY, "opcode")
    return data


def close_frame(frame):
    code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else None
    return code, frame.data[2:].decode("utf-8")


def scenario_messages(s, base):
    ws = connect(base, "messages")
    s.info["extensions"] = ws.getheaders().get("sec-websocket-extensions")
    for name, msg in client_messages():
        if isinstance(msg, str):
            ws.send(msg)
        else:
            ws.send_binary(msg)
        s.equal(recv_message(s, ws), msg, f"echo of {name}")
    ws.send_frame(ABNF.create_frame("frag", ABNF.OPCODE_TEXT, 0))
    ws.send_frame(ABNF.create_frame(b"ment ", ABNF.OPCODE_CONT, 0))
    ws.send_frame(ABNF.create_frame("\u20ac".encode(), ABNF.OPCODE_CONT, 1))
    s.equal(recv_message(s, ws), "fragment \u20ac", "echo of a fragmented text")
    ws.send_frame(ABNF.create_frame(b"ab", ABNF.OPCODE_BINARY, 0))
    ws.send_frame(ABNF.create_frame(b"cd", ABNF.OPCODE_CONT, 1))
    s.equal(recv_message(s, ws), b"abcd", "echo of a fragmented binary")
    text = words(10000, 2)
    ws.send(f"cmd:fragment:5:{text}")
    s.equal(recv_message(s, ws), text, "a text message the server sent in 5 frames")
    ws.send("cmd:pattern:1000000:7")
    s.equal(recv_message(s, ws), pattern(1000000), "a binary message the server sent in 7 frames")
    ws.close()  # 1000, and waits for the server's close frame


def scenario_ping(s, base):
    ws = connect(base, "ping")
    ws.ping("py-ping")
    s.equal(ws.recv_data(control_frame=True), (ABNF.OPCODE_PONG, b"py-ping"), "the pong")
    ws.send("cmd:ping:srv-ping")
    # recv_data answers the ping itself (and, with control_frame=True, also returns it).
    s.equal(ws.recv_data(control_frame=True), (ABNF.OPCODE_PING, b"srv-ping"), "the server's ping")
    s.equal(recv_message(s, ws), "pong:srv-ping", "the server saw the automatic pong")
    ws.close()


def scenario_client_close(s, base):
    ws = connect(base, "client-close")
    # A hand-made close frame (RFC 6455 §5.5.1), to read the server's answer ourselves.
    ws.send(struct.pack("!H", 4000) + b"client bye", ABNF.OPCODE_CLOSE)
    while True:
        frame = ws.recv_frame()
        if frame.opcode == ABNF.OPCODE_CLOSE:
            break
    s.equal(close_frame(frame), (4000, "client bye"), "the server's close frame")
    s.equal(ws.sock.recv(1), b"", "the server closed TCP after the closing handshake")
    ws.shutdown()


def server_closes(s, base, scenario, code, reason):
    ws = connect(base, scenario)
    ws.send(f"cmd:close:{code}:{reason}")
    # recv_data_frame answers a close frame with its own (1000) and returns it.
    opcode, frame = ws.recv_data_frame(control_frame=True)
    s.equal(opcode, ABNF.OPCODE_CLOSE, "opcode")
    s.equal(close_frame(frame), (code, reason), "the server's close frame")
    s.equal(ws.sock.recv(1), b"", "the server closed TCP after the closing handshake")
    ws.shutdown()


def scenario_server_close(s, base):
    server_closes(s, base, "server-close", 4001, "server bye")


def scenario_server_going_away(s, base):
    server_closes(s, base, "server-going-away", 1001, "going away")


if __name__ == "__main__":
    run_all([scenario_messages, scenario_ping, scenario_client_close, scenario_server_close, scenario_server_going_away], sys.argv[1])
