"""A fake of neonize 0.5.2's Go library (`neonize.client.gocode`) that fails the way it does.

Only the FFI edge is replaced: neonize's real Python (`NewClient`, `connect()` and its
non-daemon worker thread, `Event.execute`, the protobuf parsing of every return value) runs
unchanged on top of it. What it reproduces, from `notes/neonize-real-behaviour.md`:

- `Neonize()` for an unpaired session offers QR codes, then on "timeout" spins forever (Go's
  `FetchMe` loops on `cli.ID == nil` with no context check): `connect()` never returns, not even
  after `Stop()`. `Stop()` during the QR phase blocks forever (`range qrChan` never ends).
- `Stop()` deletes `clients[id]`; `GetAllContacts` afterwards is Go's nil dereference:
  `os.abort()`. A `FetchMe` that finds its client deleted aborts the same way.
- `Stop()` cancels `CallbackFunction`, which drops the up-to-100 events still in the channel,
  except a buffered `Connected`, which it may still deliver after `Stop()` (a random `select`).
- `Disconnect()` closes only the socket: the channel keeps draining.
- whatsmeow acks a message as soon as it sits in the channel (`acked` in the log); `delivered`
  means neonize handed it to Python.

Scenario: JSON in `WA_FAKE_NEONIZE` (see `Scenario`). Every call is appended to a JSON-lines log
the test reads back.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import Message as ProtoMessage
from pydantic import BaseModel

from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import EVENT_TO_INT, H, N

ENV = "WA_FAKE_NEONIZE"


class Scenario(BaseModel):
    log: str
    expire_windows: int = 0  # QR windows that run out before the phone scans (-1: never scans)
    first_code: float = 0.6  # real: 60 s, then 20 s per code, 6 codes in all
    next_code: float = 0.3
    codes: int = 3
    scan_after: float = 0.2  # into the window that is scanned
    account: str = f.ME
    account_lid: str = "99887766554433"
    burst: int = 0  # live messages after Connected
    burst_gap: float = 0.004
    history: int = 0  # messages in one history chunk sent after Connected (progress 40)
    connected_after_stop: bool = True
    dial_hang: float = 0.0  # a black-holed dial: whatsmeow gives up after this long (real: 60 s)
    connect_failures: int = 0  # paired connects answered by a non-5xx ConnectFailure first
    # The login status that ends window n (whatsmeow: "timeout" when the codes run out, "error"
    # on a PairError; err-* for a failed scan); "timeout" past the list's end.
    end_statuses: list[str] = []


def full(msg: ProtoMessage) -> ProtoMessage:
    """Fill every unset proto2 `required` field, as Go's encoder always does."""
    for fd in msg.DESCRIPTOR.fields:
        if not fd.is_required:
            continue
        if fd.message_type is not None:
            full(getattr(msg, fd.name))
            getattr(msg, fd.name).SetInParent()
        elif not msg.HasField(fd.name):
            setattr(msg, fd.name, fd.default_value)
    return msg


@dataclass(eq=False)
class _Client:
    uuid: str
    session: Path
    event_cb: Any
    phase: str = "dial"  # dial, qr, fetchme, connected, stopped
    stopped: threading.Event = field(default_factory=threading.Event)
    socket_closed: threading.Event = field(default_factory=threading.Event)
    channel: queue.Queue[tuple[str, ProtoMessage]] = field(
        default_factory=lambda: queue.Queue(maxsize=100)
    )
    scanned: threading.Event = field(default_factory=threading.Event)
    dial_over: threading.Event | None = None


class FakeGo:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.clients: dict[str, _Client] = {}
        self.windows = 0
        self.connect_failures = 0
        self._log_lock = threading.Lock()
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ log

    def log(self, call: str, **data: Any) -> None:
        line = json.dumps({"call": call, "t": time.monotonic(), **data})
        with self._log_lock, open(self.s.log, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    # ------------------------------------------------------------ the Go loop

    def Neonize(
        self,
        name: bytes,
        uuid: bytes,
        _jid,
        _jl,
        _new,
        _lvl,
        qr_cb,
        login_cb,
        event_cb,
        _log_cb,
        _subs,
        _subs_len,
        _props,
        _props_len,
        _a,
        _b,
        _proxy,
    ) -> bytes:  # noqa: N802
        key = uuid.decode()
        session = Path(name.decode())
        client = self.clients[key] = _Client(uuid=key, session=session, event_cb=event_cb)
        self.log("Neonize", uuid=key, paired=_paired(session))
        if self.s.dial_hang:
            # ConnectContext holds socketLock across the dial; Disconnect()/Stop() queue on it.
            c_dial = threading.Event()
            client.dial_over = c_dial
            c_dial.wait(self.s.dial_hang)
            c_dial.set()
            client.phase = "dial-failed"
            return b"failed to dial: context deadline exceeded"
        if not _paired(session):
            self._qr_phase(client, qr_cb, login_cb)
        self._callback_loop(client)
        return b""

    def _qr_phase(self, c: _Client, qr_cb: Any, login_cb: Any) -> None:
        c.phase = "qr"
        window = self.windows
        self.windows += 1
        scans = self.s.expire_windows >= 0 and window >= self.s.expire_windows
        started = time.monotonic()
        for n in range(self.s.codes):
            code = f"2@fake{window}-{n},{c.uuid}".encode()
            buf = ctypes.create_string_buffer(code)
            qr_cb(None, ctypes.addressof(buf))
            self.log("qr", uuid=c.uuid, window=window, code=n)
            lifetime = self.s.first_code if n == 0 else self.s.next_code
            until = time.monotonic() + lifetime
            while time.monotonic() < until:
                if scans and time.monotonic() - started >= self.s.scan_after:
                    self._pair(c, login_cb)
                    return
                if c.stopped.is_set():
                    self.log("qr-wedged", uuid=c.uuid)  # whatsmeow returns without closing
                    threading.Event().wait()  # `range qrChan` blocks forever
                time.sleep(0.01)
        ends = self.s.end_statuses
        end = ends[window] if window < len(ends) else "timeout"
        status = ctypes.create_string_buffer(end.encode())
        login_cb(None, ctypes.addressof(status))
        c.phase = "fetchme"
        self.log("fetchme", uuid=c.uuid)
        if c.uuid not in self.clients:
            self._abort("FetchMe: clients[id] deleted")
        threading.Event().wait()  # for cli.ID == nil { time.Sleep(100ms) }, no context check

    def _pair(self, c: _Client, login_cb: Any) -> None:
        _write_device(c.session, self.s.account, self.s.account_lid)
        ok = N.PairStatus(
            ID=f.jid(self.s.account),
            BusinessName="",
            Platform="android",
            Status=N.PairStatus.SUCCESS,
        )
        self._deliver(c, "pair", full(ok))
        status = ctypes.create_string_buffer(b"success")
        login_cb(None, ctypes.addressof(status))
        self.log("paired", uuid=c.uuid)

    def _callback_loop(self, c: _Client) -> None:
        me = N.Device(JID=f.jid(self.s.account), LID=f.jid(self.s.account_lid, "lid"))
        self._deliver(c, "device", full(me))
        if self.connect_failures < self.s.connect_failures:
            # whatsmeow: expectDisconnect(), no auto-reconnect, dispatch ConnectFailure; Neonize
            # keeps blocking in CallbackFunction until Stop().
            self.connect_failures += 1
            c.phase = "failed"
            fail = N.ConnectFailure(Reason=N.ConnectFailureReason.GENERIC, Message="bad request")
            self._deliver(c, "connect-failure", full(fail))
            c.stopped.wait()
            return
        c.phase = "connected"
        self._deliver(c, "connected", full(N.Connected(status=True)))
        threading.Thread(target=self._network, args=(c,), daemon=True).start()
        while True:
            if c.stopped.is_set():
                dropped = c.channel.qsize()
                self.log("callback-cancelled", uuid=c.uuid, dropped=dropped)
                if self.s.connected_after_stop:
                    # A Connected buffered before Stop(): select{} picks it half the time.
                    self._deliver(c, "connected-after-stop", full(N.Connected(status=True)))
                return
            try:
                tag, ev = c.channel.get(timeout=0.01)
            except queue.Empty:
                continue
            self._deliver(c, tag, ev)

    def _network(self, c: _Client) -> None:
        """WhatsApp's side: whatsmeow acks each event once it is in the channel."""
        chat = f.ALICE
        if self.s.history:
            convs = [
                H.Conversation(
                    ID=f"{chat}@s.whatsapp.net",
                    messages=[
                        f.web_message(
                            f"H{n}",
                            f.text(f"old {n}"),
                            1_700_000_000 + n,
                            remote=f"{chat}@s.whatsapp.net",
                        )
                        for n in range(self.s.history)
                    ],
                )
            ]
            chunk = f.history(convs, progress=40)
            if not self._ack(c, "history:H", chunk):
                return
        for n in range(self.s.burst):
            msg_id = f"L{n:04d}"
            ev = f.message_ev(f.text(f"live {n}"), msg_id=msg_id, chat=chat)
            if not self._ack(c, f"message:{msg_id}", ev):
                return
            time.sleep(self.s.burst_gap)

    def _ack(self, c: _Client, tag: str, ev: ProtoMessage) -> bool:
        while not (c.socket_closed.is_set() or c.stopped.is_set()):
            try:
                c.channel.put((tag, ev), timeout=0.05)
            except queue.Full:
                continue
            self.log("acked", uuid=c.uuid, tag=tag)
            return True
        return False

    def _deliver(self, c: _Client, tag: str, ev: ProtoMessage) -> None:
        data = ev.SerializeToString()
        buf = ctypes.create_string_buffer(data, len(data))
        self.log("delivered", uuid=c.uuid, tag=tag)
        c.event_cb(c.uuid.encode(), ctypes.addressof(buf), len(data), EVENT_TO_INT[type(ev)])

    def _abort(self, why: str) -> None:
        self.log("abort", why=why)
        os.abort()  # a Go panic inside a cgo export: SIGABRT, uncatchable

    # ------------------------------------------------------------ exports

    def Stop(self, uuid: bytes) -> bytes:  # noqa: N802
        key = uuid.decode()
        c = self.clients.get(key)
        self.log("Stop", uuid=key, phase=c.phase if c else "gone")
        if c is None:
            return b""
        if c.dial_over is not None:
            c.dial_over.wait()  # behind the dial's socket lock
        if c.phase == "qr":
            c.stopped.set()
            threading.Event().wait()  # blocks forever, as observed
        del self.clients[key]
        c.stopped.set()
        return b""

    def StopAll(self) -> bytes:  # noqa: N802
        for key in list(self.clients):
            self.Stop(key.encode())
        return b""

    def Disconnect(self, uuid: bytes) -> bytes:  # noqa: N802
        key = uuid.decode()
        c = self.clients.get(key)
        self.log("Disconnect", uuid=key, phase=c.phase if c else "gone")
        if c is not None and c.dial_over is not None:
            c.dial_over.wait()  # behind the dial's socket lock
        if c is not None:
            c.socket_closed.set()
        return b""

    def GetAllContacts(self, uuid: bytes) -> bytes:  # noqa: N802
        self.log("GetAllContacts", uuid=uuid.decode())
        if uuid.decode() not in self.clients:
            self._abort("GetAllContacts: nil pointer dereference (contact_store.go:106)")
        return N.ContactsGetAllContactsReturnFunction().SerializeToString()

    def GetJoinedGroups(self, uuid: bytes) -> bytes:  # noqa: N802
        self.log("GetJoinedGroups", uuid=uuid.decode())
        if uuid.decode() not in self.clients:
            return N.GetJoinedGroupsReturnFunction(Error="client is nil").SerializeToString()
        return N.GetJoinedGroupsReturnFunction().SerializeToString()

    def SendMessage(self, uuid: bytes, to: bytes, _tl: int, msg: bytes, _ml: int) -> bytes:  # noqa: N802
        key = uuid.decode()
        if key not in self.clients:
            return N.SendMessageReturnFunction(Error="client is nil").SerializeToString()
        self.log("SendMessage", uuid=key, to=N.JID.FromString(to).User, message=msg.hex())
        resp = full(N.SendResponse(ID=f"3EB0FAKE{next(self._ids):08d}", Timestamp=int(time.time())))
        return N.SendMessageReturnFunction(SendResponse=resp).SerializeToString()

    def PairPhone(self, uuid: bytes, payload: bytes, _size: int) -> bytes:  # noqa: N802
        key = uuid.decode()
        params = N.PairPhoneParams.FromString(payload)
        self.log("PairPhone", uuid=key, phone=params.phone, name=params.clientDisplayName)
        if key not in self.clients:
            return N.PairPhoneReturnFunction(Error="client is nil").SerializeToString()
        return N.PairPhoneReturnFunction(Code="ABCD-EFGH").SerializeToString()

    def SendChatPresence(self, *_args: Any) -> bytes:  # noqa: N802
        return b""

    def MarkRead(self, *_args: Any) -> bytes:  # noqa: N802
        return b""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the fake Go library has no {name}(); add it to FakeGo")


def _paired(session: Path) -> bool:
    try:
        with sqlite3.connect(session) as db:
            return db.execute("SELECT COUNT(*) FROM whatsmeow_device").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def _write_device(session: Path, user: str, lid: str) -> None:
    """What whatsmeow stores on PairSuccess (the schema comes from the real library)."""
    with sqlite3.connect(session) as db:
        db.execute(
            "INSERT INTO whatsmeow_device (jid, lid, registration_id, noise_key, identity_key, "
            "signed_pre_key, signed_pre_key_id, signed_pre_key_sig, adv_key, adv_details, "
            "adv_account_sig, adv_account_sig_key, adv_device_sig) "
            "VALUES (?, ?, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            (
                f"{user}:7@s.whatsapp.net",
                f"{lid}:7@lid",
                b"\0" * 32,
                b"\0" * 32,
                b"\0" * 32,
                b"\0" * 64,
                b"k",
                b"d",
                b"\0" * 64,
                b"\0" * 32,
                b"\0" * 64,
            ),
        )


def install() -> FakeGo:
    """Replace neonize's Go library in this process (call before any NewClient exists)."""
    import neonize.client as nc

    fake = FakeGo(Scenario.model_validate_json(os.environ[ENV]))
    nc.gocode = fake  # type: ignore[assignment]
    return fake
