"""`python -m bridge`: start the bridge daemon for one data directory."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bridge.control.exit_codes import EXIT_STORE_UNUSABLE
from bridge.control.lifecycle import clear_user_stopped
from bridge.control.lockfile import AlreadyRunning, BridgeLock, holder_pid
from bridge.logfile import log_to_file
from bridge.paths import DataPaths
from bridge.settings import Settings, SettingsError, load_settings
from bridge.transport.protocol import Transport
from store.errors import StoreError

log = logging.getLogger("bridge")


def protect_stdout() -> None:
    """Point fd 1 at stderr: the bridge has no use for stdout, and neonize's Go code and
    default handlers print there. Done before anything that could print is imported."""
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def make_transport(settings: Settings) -> Transport:
    paths = DataPaths(settings.data_dir)
    if settings.simulate:
        from bridge.transport.simulated.network import SimulatedTransport

        return SimulatedTransport(
            seed=settings.simulate_seed,
            reply_delay=settings.simulate_reply_delay,
            history_messages=settings.simulate_history,
            history_chunk_delay=settings.simulate_history_chunk_delay,
            connect_delay=settings.simulate_connect_delay,
        )
    from bridge.transport.neonize.client import NeonizeTransport

    return NeonizeTransport(paths.session_db)


async def serve(settings: Settings, *, idle_exit: float | None) -> int:
    from bridge.daemon import Bridge
    from bridge.ingest.writer_thread import WriterThread
    from store.db import open_reader, open_writer
    from store.reader import StoreReader
    from store.writer import StoreWriter

    paths = DataPaths(settings.data_dir)
    conn = open_writer(paths.messages_db)
    writer = StoreWriter(conn)
    kind = "simulated" if settings.simulate else "whatsapp"
    stored = writer.get_kv("transport_kind")
    if stored is not None and stored != kind:
        log.error(
            "%s holds a %s store but the bridge was started for %s. Use another "
            "WHATSAPP_MCP_DATA_DIR.",
            paths.root,
            stored,
            kind,
        )
        return 2
    writer.set_kv("transport_kind", kind)
    reader = StoreReader(open_reader(paths.messages_db))
    wt = WriterThread(writer)
    bridge = Bridge(settings, make_transport(settings), wt, reader, idle_exit=idle_exit)
    try:
        await bridge.run()
    finally:
        wt.close()
        conn.close()
    return 0


def private_files() -> None:
    """Every file this process creates (store, WAL, session.db from neonize's Go sqlite, media,
    log) is 0600 and every folder 0700. Set before anything opens a file or loads neonize."""
    os.umask(0o077)


def main(argv: list[str] | None = None) -> int:
    private_files()
    protect_stdout()
    parser = argparse.ArgumentParser(prog="python -m bridge", description=__doc__)
    parser.add_argument("--simulate", action="store_true", default=None)
    parser.add_argument("--simulate-history", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        help="exit after this many idle seconds (default: never, as in service mode)",
    )
    parser.add_argument(
        "--log-file",
        default=None,
        help="log into this size-capped, rotated file (stdout and stderr too)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            simulate=args.simulate, simulate_history=args.simulate_history, data_dir=args.data_dir
        )
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    paths = DataPaths(settings.data_dir)
    paths.ensure()
    if args.log_file:
        log_to_file(Path(args.log_file), settings.log_level, fmt)
    else:
        logging.basicConfig(level=settings.log_level, stream=sys.stderr, format=fmt)
    lock = BridgeLock(paths.lock)
    try:
        lock.acquire()
    except AlreadyRunning:
        log.info("a bridge is already running for %s (pid %s)", paths.root, holder_pid(paths.lock))
        return 0
    clear_user_stopped(paths)  # running again: attached servers may restart it after a crash
    try:
        rc = run_bounded_loop(serve(settings, idle_exit=args.idle_exit))
    except (StoreError, sqlite3.DatabaseError) as exc:
        # A damaged or too-new store. The transport is created only after the store opened, so
        # the WhatsApp session (session.db) has not been touched and nothing re-pairs.
        log.error("the bridge cannot start: %s", exc)
        rc = EXIT_STORE_UNUSABLE
    except Exception:
        log.exception("bridge failed")
        rc = 1
    finally:
        lock.release()
    exit_past_wedged_threads(rc)
    return rc


def run_bounded_loop(main: Coroutine[Any, Any, int]) -> int:
    """`asyncio.run`, except that closing does not wait for ever on worker threads.

    `asyncio.run` joins the default executor's threads without a time limit, and a neonize
    call run with `asyncio.to_thread` can block in Go for minutes (or, in the states the
    transport avoids, for ever); `whatsapp-mcp stop` must still end within 10 s.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=1))
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), 0.5))
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), 1))
        except Exception:  # a thread still in Go: exit_past_wedged_threads ends the process
            log.info("worker threads still busy at exit; not waiting for them")
        finally:
            loop.close()


def exit_past_wedged_threads(rc: int) -> None:
    """End the process now if a non-daemon thread would keep it alive.

    neonize runs each client's Go loop on a non-daemon thread that never ends for a client
    abandoned while unpaired (Go spins in FetchMe), so a normal interpreter exit would wait
    forever. The store is closed and the lock released by now: nothing is left to flush but
    the log.
    """
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not stuck:
        return
    log.info("exiting past %d neonize thread(s) that never end", len(stuck))
    logging.shutdown()
    sys.stderr.flush()
    os._exit(rc)
