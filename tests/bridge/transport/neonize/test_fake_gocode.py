"""The fake Go library itself behaves like neonize 0.5.2 where the note says it fails.

Each check runs in its own process: the fake's wedged threads never end (as the real ones), and
an abort takes the process down (as the real one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.bridge.transport.neonize.fake_ffi_helpers import make_session_db
from tests.bridge.transport.neonize.fake_gocode import ENV

PRELUDE = """
import json, os, sys, threading, time
from bridge.main import protect_stdout
protect_stdout()
from tests.bridge.transport.neonize.fake_gocode import install
fake = install()
from neonize.client import NewClient
session = sys.argv[1]
def report(**kw):
    sys.stderr.write("RESULT " + json.dumps(kw) + "\\n"); sys.stderr.flush(); os._exit(0)
def connect_in_background(c):
    done = threading.Event()
    def run():
        try: c.connect()
        finally: done.set()
    threading.Thread(target=run, daemon=True).start()
    return done
def wait(cond, t=10):
    end = time.monotonic() + t
    while not cond():
        if time.monotonic() > end: return False
        time.sleep(0.01)
    return True
"""


def run(tmp_path: Path, body: str, **scenario: object) -> tuple[int, dict[str, object]]:
    session = tmp_path / "session.db"
    if not session.exists():
        make_session_db(session)
    env = {**os.environ, ENV: json.dumps({"log": str(tmp_path / "log.jsonl"), **scenario})}
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + body, str(session)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode(errors="replace")
    results = [line[7:] for line in err.splitlines() if line.startswith("RESULT ")]
    return proc.returncode, (json.loads(results[-1]) if results else {"stderr": err[-2000:]})


def test_connect_never_returns_after_stop_while_unpaired(tmp_path: Path) -> None:
    rc, got = run(
        tmp_path,
        """
c = NewClient(session, uuid="u1")
done = connect_in_background(c)
wait(lambda: any(x.phase == "fetchme" for x in fake.clients.values()))
c.stop()  # after the QR window: Go spins in FetchMe
report(returned=done.wait(2), phase=[x.phase for x in fake.clients.values()])
""",
        expire_windows=-1,
        first_code=0.2,
        codes=1,
    )
    assert rc == 0 and got == {"returned": False, "phase": []}, got


def test_stop_during_the_qr_phase_blocks(tmp_path: Path) -> None:
    rc, got = run(
        tmp_path,
        """
c = NewClient(session, uuid="u2")
done = connect_in_background(c)
wait(lambda: any(x.phase == "qr" for x in fake.clients.values()))
stopped = threading.Event()
threading.Thread(target=lambda: (c.stop(), stopped.set()), daemon=True).start()
report(stop_returned=stopped.wait(2), connect_returned=done.wait(0.5))
""",
        expire_windows=-1,
        first_code=30,
        codes=1,
    )
    assert rc == 0 and got == {"stop_returned": False, "connect_returned": False}, got


def test_get_all_contacts_after_stop_aborts_the_process(tmp_path: Path) -> None:
    rc, got = run(
        tmp_path,
        """
c = NewClient(session, uuid="u3")
done = connect_in_background(c)
wait(lambda: any(x.phase == "connected" for x in fake.clients.values()))
c.stop()
c.contact.get_all_contacts()
report(survived=True)
""",
        expire_windows=0,
        scan_after=0.05,
    )
    assert rc == -6, (rc, got)  # SIGABRT, like a Go panic in a cgo export


def test_a_buffered_connected_arrives_after_stop(tmp_path: Path) -> None:
    rc, got = run(
        tmp_path,
        """
from neonize.events import ConnectedEv
seen = []
c = NewClient(session, uuid="u4")
c.event(ConnectedEv)(lambda _c, _e: seen.append(time.monotonic()))
done = connect_in_background(c)
wait(lambda: seen)
stopped_at = time.monotonic()
c.stop()
wait(lambda: len(seen) >= 2)
report(after_stop=[t > stopped_at for t in seen], connect_returned=done.wait(2))
""",
        expire_windows=0,
        scan_after=0.05,
    )
    assert rc == 0 and got == {"after_stop": [False, True], "connect_returned": True}, got
