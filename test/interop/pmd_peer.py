#!/usr/bin/python3
"""A permessage-deflate peer for test/extensions/deflate-interop.test.ts: python-websockets'
PerMessageDeflate extension driven over stdin/stdout, no sockets.

Every message, both ways, is a 4-byte big-endian length and then that many bytes.
Requests (first byte = command):
  S <json>                        configure: {"remote_no_context_takeover": bool, ...}
  E <fin> <opcode> <data>         encode a frame; reply: <rsv1> <payload>
  D <fin> <opcode> <rsv1> <data>  decode a frame; reply: "+" <data>, or "-" <error>
Replies to S start with "+" (ok) or "-" (error message).
"""
import json
import struct
import sys

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode


def read_exact(stream, n):
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    ext = None

    def reply(payload):
        stdout.write(struct.pack(">I", len(payload)) + payload)
        stdout.flush()

    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return
        msg = read_exact(stdin, struct.unpack(">I", head)[0])
        cmd, body = msg[:1], msg[1:]
        try:
            if cmd == b"S":
                ext = PerMessageDeflate(**json.loads(body))
                reply(b"+")
            elif cmd == b"E":
                frame = ext.encode(Frame(Opcode(body[1]), body[2:], fin=bool(body[0])))
                reply(bytes([1 if frame.rsv1 else 0]) + frame.data)
            elif cmd == b"D":
                frame = Frame(Opcode(body[1]), body[3:], fin=bool(body[0]), rsv1=bool(body[2]))
                reply(b"+" + ext.decode(frame, max_size=None).data)
            else:
                reply(b"-unknown command")
        except Exception as exc:  # reported to the test, which decides
            reply(b"-" + f"{type(exc).__name__}: {exc}".encode())


if __name__ == "__main__":
    main()
