"""Shared by the Python interop peers (test/interop/*_peer.py): the deterministic payloads of
test/interop/helpers.ts, and the scenario report.

Every peer prints one JSON line per scenario on stdout ({"scenario": ..., "ok": ...,
"failures": [...]}) and exits 1 if any scenario failed, 3 if an import failed (the test then
fails: CI installs the Debian packages, so a missing one is a broken setup, not a skip).
"""
import json
import sys

WORDS = (
    'alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november '
    'oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu h\u00e9llo w\u00f6rld '
    '\u2603 snow \u20acuro {"id": [1, 2, 3]} <tag attr="v"/> 0123456789 lorem ipsum dolor sit amet'
).split(' ')

_PERIOD = bytes((i * 7 + 3) & 0xFF for i in range(256))


def pattern(size):
    """Byte i is (i * 7 + 3) & 0xff, as pattern() in helpers.ts."""
    return (_PERIOD * (size // 256 + 1))[:size]


def words(size, seed):
    """The same text as words() in helpers.ts (same generator, same word list)."""
    x = seed & 0xFFFFFFFF
    parts = []
    length = 0
    while length < size:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        w = WORDS[(x >> 16) % len(WORDS)]
        parts.append(w)
        length += len(w) + 1
    return ' '.join(parts)[:size]


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def import_failed(exc):
    emit(event="import-error", error=str(exc))
    sys.exit(3)


class Scenario:
    """Collects the checks of one scenario; `report()` prints its line."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.info = {}

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok

    def equal(self, got, want, what):
        if got != want:
            self.failures.append(f"{what}: got {describe(got)}, want {describe(want)}")
            return False
        return True

    def report(self):
        emit(scenario=self.name, ok=not self.failures, failures=self.failures, **self.info)
        return not self.failures


def describe(value):
    """A short description of a value for failure messages (large payloads are not printed)."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes {bytes(value[:16]).hex()}...>" if len(value) > 32 else f"bytes {bytes(value).hex()}"
    if isinstance(value, str) and len(value) > 64:
        return f"<{len(value)} chars {value[:32]!r}...>"
    return repr(value)


def client_messages():
    """The messages of the "messages" scenario: (name, payload) sent and expected back."""
    return [
        ("text", "h\u00e9llo \u2603 from python"),
        ("empty text", ""),
        ("empty binary", b""),
        ("binary 0..255", bytes(range(256))),
        ("binary 125", pattern(125)),
        ("binary 126", pattern(126)),
        ("binary 65535", pattern(65535)),
        ("binary 65536", pattern(65536)),
        ("text 70000", words(70000, 1)),
        ("binary 4 MiB", pattern(4 * 1024 * 1024)),
    ]


def run_all(scenarios, *args):
    """Runs each scenario function; exits 1 if any failed (or raised)."""
    ok = True
    for fn in scenarios:
        name = fn.__name__.replace("scenario_", "").replace("_", "-")
        s = Scenario(name)
        try:
            fn(s, *args)
        except Exception as exc:  # a scenario that raised is a failed scenario, with the reason
            s.failures.append(f"raised {type(exc).__name__}: {exc}")
        ok = s.report() and ok
    sys.exit(0 if ok else 1)
