# pyright: basic
"""One neonize client and its connect thread: a *generation* of the WhatsApp connection.

A generation that has to go while it is unpaired is abandoned, never stopped (see `client.py`);
its handlers then drop whatever Go still delivers. Handlers are plain closures: neonize keeps
bound methods only as weak references.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from store.jid import is_lid

if TYPE_CHECKING:
    from bridge.transport.neonize.client import NeonizeTransport

logger = logging.getLogger(__name__)

# whatsmeow's QR channel: a first code valid 60 s, then five more of 20 s each (qrchan.go).
FIRST_QR_SECONDS = 60.0
NEXT_QR_SECONDS = 20.0
QR_CHANNEL_SECONDS = 160.0
UNREACHABLE = "Cannot reach WhatsApp's servers: "
# ConnectFailure reasons whatsmeow retries by itself (5xx); any other one it gives up on.
_SERVER_ERRORS = frozenset({"INTERNAL_SERVER_ERROR", "EXPERIMENTAL", "SERVICE_UNAVAILABLE"})


@dataclass(eq=False)
class Generation:
    client: Any
    uuid: str
    paired: bool  # stop() is safe only on a paired client
    started: bool = False
    retired: bool = False  # abandoned or being stopped: its connection events are ignored
    connected_once: bool = False
    restart_reason: str | None = None
    failure: str | None = None
    first_qr_at: float | None = None
    qr_deadline: float | None = None  # when the current QR code has surely expired
    clock: float = field(default_factory=time.monotonic)  # start of the current wait
    done: threading.Event = field(default_factory=threading.Event)  # connect() returned
    qr_seen: threading.Event = field(default_factory=threading.Event)
    handlers: dict[str, Callable[[Any, Any], None]] = field(default_factory=dict)

    def start(self, _connect_timeout: float) -> None:
        self.started = True
        self.clock = time.monotonic()
        threading.Thread(target=self._connect, name=f"connect-{self.uuid}", daemon=True).start()

    def reset_for_retry(self) -> None:
        """Ready to connect() again after connect() returned by itself."""
        self.started = False
        self.restart_reason = None
        self.failure = None
        self.first_qr_at = None
        self.qr_deadline = None
        self.done = threading.Event()
        self.qr_seen = threading.Event()

    def _connect(self) -> None:
        try:
            self.client.connect()  # blocks; for an unpaired client possibly forever
        except Exception as exc:  # NeonizeError, or a crash inside neonize itself
            self.failure = str(exc) or type(exc).__name__
        finally:
            self.done.set()


def run_bounded(fn: Callable[[], None], timeout: float, what: str) -> bool:
    """Run a Go call that may block forever on a daemon thread; True if it returned in time."""
    finished = threading.Event()

    def run() -> None:
        try:
            fn()
        except Exception as exc:
            logger.info("neonize %s failed: %s", what, exc)
        finally:
            finished.set()

    threading.Thread(target=run, name=f"neonize-{what}", daemon=True).start()
    if not finished.wait(timeout):
        logger.warning(
            "neonize %s did not return within %.1f s; going on without it", what, timeout
        )
        return False
    return True


def register_handlers(nz: dict[str, ModuleType], gen: Generation, t: NeonizeTransport) -> None:
    convert = nz["convert"]
    ev = nz["events"]
    client = gen.client

    def guarded(fn: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def handler(c: Any, e: Any) -> None:
            try:
                fn(c, e)
            except Exception:
                logger.exception("WhatsApp event handler failed for %s", type(e).__name__)

        return handler

    def on_message(_c: Any, e: Any) -> None:
        t._emit(convert.convert_message(e))

    def on_history(_c: Any, e: Any) -> None:
        t._emit(convert.convert_history(e))
        t.directory.poke()  # each chunk may carry LID mappings and names whatsmeow stored

    def on_receipt(_c: Any, e: Any) -> None:
        event = convert.convert_receipt(e)
        if event is not None and is_lid(event.receipt.chat_jid):
            # A first message to a phone number goes out under the contact's LID, and its
            # receipts come back under it: file them where the message is stored.
            pn = t.directory.pn_for(event.receipt.chat_jid)
            if pn is not None:
                event = event.model_copy(
                    update={"receipt": event.receipt.model_copy(update={"chat_jid": pn})}
                )
        t._emit(event)

    def on_joined_group(_c: Any, e: Any) -> None:
        t._emit(convert.convert_joined_group(e))

    def on_group_info(_c: Any, e: Any) -> None:
        t._emit(convert.convert_group_info(e))

    def on_connection(c: Any, e: Any) -> None:
        event = convert.convert_connection(e)
        restart = None
        if isinstance(e, ev.PairStatusEv) and event is not None:
            if event.state.value == "connecting":
                t.on_pair_success(gen)
        if isinstance(e, ev.ConnectedEv):
            me = getattr(c, "me", None)
            if me is not None and me.HasField("JID") and event is not None:
                event = event.model_copy(update={"account_jid": convert.jid_proto(me.JID)})
        if isinstance(e, ev.ConnectFailureEv) and event is not None:
            reason = e.Reason if e.HasField("Reason") else 0
            name = _reason_name(e, reason)
            if event.state.value == "disconnected" and name not in _SERVER_ERRORS:
                # whatsmeow gave up (no auto-reconnect): restart through stop() and a new client.
                restart = "connect-failure"
        if event is not None:
            t.on_connection(gen, event, restart=restart)

    def on_qr(_c: Any, data: bytes) -> None:
        t.on_qr(gen, data)

    gen.handlers["connection"] = guarded(on_connection)
    client.event.qr(guarded(on_qr))
    table: dict[Any, Callable[[Any, Any], None]] = {
        ev.MessageEv: on_message,
        ev.HistorySyncEv: on_history,
        ev.ReceiptEv: on_receipt,
        ev.JoinedGroupEv: on_joined_group,
        ev.GroupInfoEv: on_group_info,
    }
    for kind in (
        ev.ConnectedEv,
        ev.PairStatusEv,
        ev.LoggedOutEv,
        ev.ClientOutdatedEv,
        ev.ConnectFailureEv,
        ev.TemporaryBanEv,
        ev.StreamReplacedEv,
        ev.DisconnectedEv,
        ev.KeepAliveTimeoutEv,
        ev.KeepAliveRestoredEv,
    ):
        table[kind] = on_connection
    for kind, fn in table.items():
        client.event(kind)(guarded(fn) if fn is not on_connection else gen.handlers["connection"])


def _reason_name(e: Any, reason: int) -> str:
    try:
        return type(e).DESCRIPTOR.fields_by_name["Reason"].enum_type.values_by_number[reason].name
    except Exception:
        return ""


def detach_finalizer(client: Any) -> None:
    finalizer = getattr(client, "_stop_finalizer", None)
    if finalizer is not None:
        finalizer.detach()


def unreachable_detail(error: str, retry_in: float) -> str:
    short = error
    if "no such host" in error or "lookup" in error:
        short = "DNS lookup of web.whatsapp.com failed (no internet?)"
    elif "connection refused" in error:
        short = "connection refused"
    elif "timeout" in error.lower() or "deadline" in error:
        short = "timed out"
    return f"{UNREACHABLE}{short}. Retrying in about {retry_in:.1f} s. ({error})"
