"""Saved names and the LID map, re-read from `session.db` on whatsmeow's timetable.

whatsmeow fills `whatsmeow_contacts` from app state only after `Connected` (on the first day
that takes minutes), and `whatsmeow_lid_map` whenever it learns a mapping; neonize forwards no
event for either. So we read them: at bridge start, at every connect, about 30 s, 2 min and
10 min after it, shortly after each history chunk, and hourly. Only a changed directory is
emitted, so the repeats cost one read-only query each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bridge.transport.neonize.session_db import read_directory, read_lid_map
from bridge.transport.protocol import ContactsEvent, TransportEvent

logger = logging.getLogger(__name__)

# A burst of history chunks causes one read, this long after the latest chunk.
POKE_DELAY = 2.0


class DirectoryRefresher:
    def __init__(
        self,
        session_path: Path,
        emit: Callable[[TransportEvent], None],
        *,
        schedule: tuple[float, ...] = (30.0, 120.0, 600.0),
        every: float = 3600.0,
    ) -> None:
        self._path = session_path
        self._emit = emit
        self._schedule = schedule
        self._every = every
        self._due: list[float] = []
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last: list[tuple[str, ...]] | None = None
        self._lid_map: dict[str, str] = {}
        self._lid_map_at = 0.0
        self.reads = 0

    def pn_for(self, lid: str) -> str | None:
        """The phone JID whatsmeow has stored for `lid`, re-reading the map on a miss (at most
        once a second). whatsmeow stores the mapping it learns from its usync lookup before a
        first send, so a receipt that comes back under the @lid can be filed under the phone
        chat the message is stored in."""
        with self._lock:
            pn = self._lid_map.get(lid)
            stale = time.monotonic() - self._lid_map_at > 1.0
        if pn is not None or not stale:
            return pn
        fresh = read_lid_map(self._path)
        with self._lock:
            self._lid_map, self._lid_map_at = fresh, time.monotonic()
        return fresh.get(lid)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopped.clear()
        self._add([0.0])
        self._thread = threading.Thread(target=self._run, name="neonize-directory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def on_connected(self) -> None:
        self._add([0.0, *self._schedule])

    def poke(self) -> None:
        self._add([POKE_DELAY])

    def refresh_now(self) -> None:
        """Read once on the caller's thread (tests, and the start-up read)."""
        try:
            records = read_directory(self._path)
        except Exception:
            logger.exception("could not read contacts from %s", self._path.name)
            return
        self.reads += 1
        key = sorted(
            (r.jid, r.lid or "", r.saved_name or "", r.push_name or "", r.business_name or "")
            for r in records
        )
        if records and key != self._last:
            self._last = key
            self._emit(ContactsEvent(contacts=records))

    def _add(self, delays: list[float]) -> None:
        now = time.monotonic()
        with self._lock:
            self._due.extend(now + d for d in delays)
            self._due.sort()
        self._wake.set()

    def _run(self) -> None:
        next_hourly = time.monotonic() + self._every
        while not self._stopped.is_set():
            now = time.monotonic()
            with self._lock:
                due = [t for t in self._due if t <= now]
                self._due = [t for t in self._due if t > now]
                upcoming = min([*self._due, next_hourly])
            if now >= next_hourly:
                due.append(now)
                next_hourly = now + self._every
            if due:
                self.refresh_now()
                continue
            self._wake.wait(max(0.01, upcoming - now))
            self._wake.clear()
