# pyright: basic
"""`NeonizeTransport`: the real WhatsApp, through neonize (whatsmeow in Go).

Threads and loops:

- neonize's sync `NewClient.connect()` blocks until `stop()`; it runs on our own *connect
  thread*, which also owns the reconnect loop (connect() never retries by itself).
- Go calls our handlers on its own thread, one event at a time. A handler only converts the
  protobuf and hands the result to the asyncio loop with `call_soon_threadsafe`; it never
  blocks and never lets an exception escape (neonize would swallow it silently).
- Commands run the blocking FFI calls in `asyncio.to_thread`.

neonize is imported lazily (`_neonize()`), so importing this module is cheap and the MCP
server process never loads the Go runtime. Call `protect_stdout()` and
`prepare_neonize_environment()` before the first import: Go prints to fd 1 and neonize
configures root logging at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import random
import re
import shutil
import sqlite3
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    MediaUnavailable,
    NotConnected,
    OutboundMedia,
    OutboundText,
    PairingEvent,
    SendResult,
    TransportError,
    TransportEvent,
)
from store.jid import is_group, normalize_jid, phone_to_jid, server_part, user_part
from store.models import MediaInfo, MessageKind

logger = logging.getLogger(__name__)

# whatsmeow offers ~6 QR codes: 60 s then 20 s each, about 160 s in all.
QR_WINDOW_SECONDS = 165.0
# whatsmeow's DownloadHTTPError for media the CDN no longer has (expired or deleted).
_EXPIRED_MEDIA = re.compile(r"status code (403|404|410)\b|media not found|no longer available")
FIRST_QR_SECONDS = 60.0
UNREACHABLE = "Cannot reach WhatsApp's servers: "


def protect_stdout() -> int:
    """Point fd 1 at stderr (Go and neonize print there); returns a dup of the original fd 1.

    The bridge calls this before importing neonize so nothing can corrupt a protocol that
    uses stdout. Idempotent enough: calling it twice just returns a dup of stderr.
    """
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return saved


_env_ready = False


def prepare_neonize_environment() -> None:
    """Settings that must be in place before neonize (and its Go library) loads."""
    global _env_ready
    if _env_ready:
        return
    # Go copies the environment when the .so loads; without this every 1:1 message we send
    # carries a <bot biz_bot="1"/> node and shows up as an "AI/bot" message.
    os.environ["NEONIZE_BOT_TAG"] = "off"
    root = logging.getLogger()
    level = root.level
    if not root.handlers:
        # neonize calls logging.basicConfig(INFO) at import; giving root a handler first turns
        # that call into a no-op, so neonize does not choose our format or verbosity.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        level = logging.WARNING if root.level == logging.NOTSET else root.level
    with warnings.catch_warnings():
        # neonize's import runs os.popen("uname -a") twice without closing the pipes.
        warnings.simplefilter("ignore", ResourceWarning)
        import neonize  # noqa: F401  (loads the Go library once, with the settings above)

        gc.collect()

    root.setLevel(level)
    for name in ("neonize", "whatsmeow", "Whatsmeow"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    # check_ffmpeg_available() warns on every connect attempt; we check ffmpeg ourselves.
    logging.getLogger("neonize.utils.ffmpeg").setLevel(logging.ERROR)
    _env_ready = True


def _neonize() -> dict[str, ModuleType]:
    prepare_neonize_environment()
    import neonize.client as client
    import neonize.events as events
    import neonize.exc as exc
    import neonize.utils as utils
    import neonize.utils.enum as enum
    from neonize.proto.waCompanionReg import WAWebProtobufsCompanionReg_pb2 as reg
    from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as e2e

    from bridge.transport.neonize import convert

    return {
        "client": client,
        "events": events,
        "exc": exc,
        "utils": utils,
        "enum": enum,
        "reg": reg,
        "e2e": e2e,
        "convert": convert,
    }


def read_paired_account(session_path: Path) -> str | None:
    """The paired account's JID from whatsmeow's session DB, without Go or a connection.

    Reads the `whatsmeow_device` table read-only; a missing file or table means not paired.
    """
    if not session_path.exists():
        return None
    try:
        uri = f"file:{session_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=2.0)) as db:
            row = db.execute("SELECT jid FROM whatsmeow_device LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    if not row or not row[0]:
        return None
    try:
        return normalize_jid(str(row[0]))
    except Exception:
        return str(row[0])


def _jid_proto(utils: ModuleType, jid: str):
    norm = normalize_jid(jid)
    return utils.build_jid(user_part(norm), server_part(norm))


def _ffmpeg_available() -> bool:
    return bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


class NeonizeTransport:
    """The Transport protocol over a real WhatsApp session stored at `session_path`."""

    name = "neonize"

    def __init__(
        self,
        session_path: Path,
        *,
        full_history: bool = True,
        history_days: int = 3650,
        connect_timeout: float = 30.0,
        qr_window: float = QR_WINDOW_SECONDS,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        self.session_path = Path(session_path)
        self._full_history = full_history
        self._history_days = history_days
        self._connect_timeout = connect_timeout
        self._qr_window = qr_window
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max

        self._state = ConnectionState.disconnected
        self._account_jid: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[TransportEvent | None] | None = None
        self._client: Any = None
        self._nz: dict[str, ModuleType] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._halt = False  # permanent state or stream replaced: do not reconnect
        self._lock = threading.Lock()
        self._attempt_started = 0.0
        self._first_qr_at: float | None = None
        self._qr_seen = threading.Event()
        self._restart_reason: str | None = None  # why the connect thread stopped the client
        self._connected_once = False

    # ------------------------------------------------------------ properties

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def account_jid(self) -> str | None:
        return self._account_jid

    def is_paired(self) -> bool:
        account = read_paired_account(self.session_path)
        if account:
            self._account_jid = self._account_jid or account
        return account is not None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._prepare()
        if self._thread and self._thread.is_alive():
            return
        self._stopping.clear()
        self._halt = False
        self._thread = threading.Thread(
            target=self._connect_loop, name="neonize-connect", daemon=True
        )
        self._thread.start()
        threading.Thread(target=self._watchdog, name="neonize-watchdog", daemon=True).start()

    def _prepare(self) -> None:
        """Load neonize, create the client and register handlers (no network)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
        if self._client is not None:
            return
        nz = self._nz = _neonize()
        self.session_path.parent.mkdir(parents=True, exist_ok=True)
        self.is_paired()
        props = nz["reg"].DeviceProps(
            os="WhatsApp MCP",
            platformType=nz["reg"].DeviceProps.CHROME,
        )
        if self._full_history:
            # Only consulted when pairing: asks the phone for as much history as it will send.
            props.requireFullSync = True
            props.historySyncConfig.fullSyncDaysLimit = self._history_days
            props.historySyncConfig.fullSyncSizeMbLimit = 102400
            props.historySyncConfig.storageQuotaMb = 102400
        client = nz["client"].NewClient(
            str(self.session_path), props=props, uuid=f"wa-mcp-{id(self)}"
        )
        # neonize's own login-status callback print()s to stdout; this instance attribute
        # shadows the name-mangled method that connect() hands to Go.
        client._NewClient__onLoginStatus = self._on_login_status
        client.event.qr(self._on_qr)
        ev = nz["events"]
        handlers: dict[type, Callable[[Any, Any], None]] = {
            ev.MessageEv: self._on_message,
            ev.HistorySyncEv: self._on_history,
            ev.ReceiptEv: self._on_receipt,
            ev.JoinedGroupEv: self._on_joined_group,
            ev.GroupInfoEv: self._on_group_info,
            ev.ConnectedEv: self._on_connected,
            ev.PairStatusEv: self._on_connection,
            ev.LoggedOutEv: self._on_connection,
            ev.ClientOutdatedEv: self._on_connection,
            ev.ConnectFailureEv: self._on_connection,
            ev.TemporaryBanEv: self._on_connection,
            ev.StreamReplacedEv: self._on_connection,
            ev.DisconnectedEv: self._on_connection,
            ev.KeepAliveTimeoutEv: self._on_connection,
            ev.KeepAliveRestoredEv: self._on_connection,
        }
        for event_type, fn in handlers.items():
            # Plain functions, not bound methods: neonize keeps bound methods as weak refs.
            client.event(event_type)(_guarded(fn))
        self._client = client

    async def stop(self) -> None:
        await self._halt_connection()
        if self._state not in (ConnectionState.logged_out, ConnectionState.outdated):
            self._set_state(ConnectionState.disconnected, "Stopped.", emit=False)
        if self._queue is not None and self._loop is not None:
            self._queue.put_nowait(None)

    async def _halt_connection(self) -> None:
        """Stop the client and its connect thread; the event stream stays open."""
        self._stopping.set()
        client, thread = self._client, self._thread
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(client.stop)
        if thread is not None:
            await asyncio.to_thread(thread.join, 1.5)

    async def events(self) -> AsyncIterator[TransportEvent]:  # type: ignore[override]
        if self._queue is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    # ------------------------------------------------------------ connect thread

    def _connect_loop(self) -> None:
        nz = self._nz
        assert nz is not None
        delay = self._backoff_initial
        while not self._stopping.is_set() and not self._halt:
            self._restart_reason = None
            self._connected_once = False
            self._first_qr_at = None
            self._qr_seen.clear()
            self._attempt_started = time.monotonic()
            self._set_state(ConnectionState.connecting, "Connecting to WhatsApp…")
            failure: str | None = None
            try:
                self._client.connect()  # blocks until client.stop()
            except nz["exc"].NeonizeError as exc:
                failure = str(exc)
            except Exception as exc:  # a crash in neonize itself must not kill the loop
                logger.exception("neonize connect() crashed")
                failure = f"{type(exc).__name__}: {exc}"
            if self._stopping.is_set() or self._halt:
                break
            reason = self._restart_reason
            if reason == "qr-expired":
                delay = self._backoff_initial
                continue  # offer a fresh QR straight away
            if failure is not None or reason == "watchdog":
                detail = failure or f"no answer within {self._connect_timeout:.0f} s"
                self._set_state(ConnectionState.disconnected, _unreachable_detail(detail, delay))
            else:
                self._set_state(ConnectionState.disconnected, "Connection closed; reconnecting.")
            if self._connected_once:
                delay = self._backoff_initial
            if self._stopping.wait(delay * random.uniform(0.8, 1.2)):
                break
            delay = min(delay * 2, self._backoff_max)

    def _watchdog(self) -> None:
        """Unstick a connect that hangs (black-holed network) and expire stale QR windows."""
        while not self._stopping.wait(0.5):
            if self._halt or self._thread is None or not self._thread.is_alive():
                return
            now = time.monotonic()
            stuck = (
                self._state is ConnectionState.connecting
                and now - self._attempt_started > self._connect_timeout
            )
            qr_expired = (
                self._state is ConnectionState.pairing
                and self._first_qr_at is not None
                and now - self._first_qr_at > self._qr_window
            )
            if stuck or qr_expired:
                self._restart("watchdog" if stuck else "qr-expired")

    def _restart(self, reason: str) -> None:
        with self._lock:
            if self._restart_reason is not None:
                return
            self._restart_reason = reason
        logger.info("restarting the WhatsApp connection (%s)", reason)
        self._attempt_started = time.monotonic()
        threading.Thread(target=self._safe_stop_client, daemon=True).start()

    def _safe_stop_client(self) -> None:
        with contextlib.suppress(Exception):
            self._client.stop()

    # ------------------------------------------------------------ event plumbing

    def _emit(self, event: TransportEvent | None) -> None:
        if event is None or self._loop is None or self._queue is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # loop closed during shutdown
            logger.debug("event loop closed; dropping %s", type(event).__name__)

    def _set_state(self, state: ConnectionState, detail: str | None, *, emit: bool = True) -> None:
        self._state = state
        if emit:
            self._emit(ConnectionEvent(state=state, detail=detail, account_jid=self._account_jid))

    def _on_message(self, _client: Any, ev: Any) -> None:
        self._emit(self._convert().convert_message(ev))

    def _on_history(self, _client: Any, ev: Any) -> None:
        self._emit(self._convert().convert_history(ev))

    def _on_receipt(self, _client: Any, ev: Any) -> None:
        self._emit(self._convert().convert_receipt(ev))

    def _on_joined_group(self, _client: Any, ev: Any) -> None:
        self._emit(self._convert().convert_joined_group(ev))

    def _on_group_info(self, _client: Any, ev: Any) -> None:
        self._emit(self._convert().convert_group_info(ev))

    def _on_connected(self, client: Any, ev: Any) -> None:
        self._connected_once = True
        me = getattr(client, "me", None)
        convert = self._convert()
        if me is not None and me.HasField("JID"):
            self._account_jid = convert.jid_proto(me.JID) or self._account_jid
        self._on_connection(client, ev)
        # Names and groups live in whatsmeow's local store; read them off the Go thread.
        threading.Thread(target=self._refresh_directory, daemon=True).start()

    def _on_connection(self, _client: Any, ev: Any) -> None:
        event = self._convert().convert_connection(ev)
        if event is None:
            return
        if event.account_jid:
            self._account_jid = event.account_jid
        self._state = event.state
        if event.state in (
            ConnectionState.logged_out,
            ConnectionState.outdated,
            ConnectionState.banned,
            ConnectionState.stream_replaced,
        ):
            self._halt = True
            threading.Thread(target=self._safe_stop_client, daemon=True).start()
        self._emit(event.model_copy(update={"account_jid": self._account_jid}))

    def _on_qr(self, _client: Any, data: bytes) -> None:
        try:
            now = time.monotonic()
            first = self._first_qr_at is None
            if first:
                self._first_qr_at = now
            lifetime = FIRST_QR_SECONDS if first else 20.0
            self._state = ConnectionState.pairing
            self._qr_seen.set()
            self._emit(
                PairingEvent(
                    code=None,
                    qr=bytes(data).decode("utf-8", "replace"),
                    expires_at=datetime.now(timezone.utc) + timedelta(seconds=lifetime),
                )
            )
            if first:
                self._emit(
                    ConnectionEvent(
                        state=ConnectionState.pairing,
                        detail="Not paired: scan the QR code in WhatsApp > Linked devices, "
                        "or pair with a phone number.",
                    )
                )
        except Exception:
            logger.exception("could not handle a QR code")

    def _on_login_status(self, _uuid: Any, status: Any) -> None:
        try:
            text = ctypes.string_at(status).decode("utf-8", "replace") if status else ""
            logger.info("WhatsApp login status: %s", text)
            if text == "timeout":
                self._restart("qr-expired")
            elif text == "err-client-outdated":
                nz = self._nz
                if nz is not None:
                    from neonize.proto.Neonize_pb2 import ClientOutdated

                    self._on_connection(None, ClientOutdated())
            elif text.startswith("err-"):
                self._emit(
                    ConnectionEvent(
                        state=ConnectionState.pairing,
                        detail=f"Pairing failed ({text}); a new QR code will follow.",
                    )
                )
        except Exception:
            logger.exception("could not handle a login status")

    def _refresh_directory(self) -> None:
        convert = self._convert()
        try:
            self._emit(convert.convert_contacts(self._client.contact.get_all_contacts()))
        except Exception as exc:
            logger.warning("could not read WhatsApp contacts: %s", exc)
        try:
            for info in self._client.get_joined_groups():
                group = convert.group_record(info)
                if group is not None:
                    from bridge.transport.protocol import GroupEvent

                    self._emit(GroupEvent(group=group))
        except Exception as exc:
            logger.warning("could not read WhatsApp groups: %s", exc)

    def _convert(self) -> Any:
        from bridge.transport.neonize import convert as neonize_convert

        return neonize_convert

    # ------------------------------------------------------------ commands

    def _require_connected(self) -> tuple[Any, dict[str, ModuleType]]:
        if self._client is None or self._nz is None or self._state is not ConnectionState.connected:
            raise NotConnected(
                f"WhatsApp is not connected (state: {self._state.value}); "
                "wait for the connection or pair first."
            )
        return self._client, self._nz

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        nz = self._nz
        assert nz is not None
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except nz["exc"].NeonizeError as exc:
            raise _map_error(what, exc) from exc

    async def send_text(self, message: OutboundText) -> SendResult:
        client, nz = self._require_connected()
        e2e = nz["e2e"]
        to = _jid_proto(nz["utils"], message.chat_jid)
        mentions = [normalize_jid(m) for m in message.mentions]
        if message.reply_to_id or mentions:
            ctx = e2e.ContextInfo(mentionedJID=mentions)
            if message.reply_to_id:
                ctx.stanzaID = message.reply_to_id
                if message.reply_to_sender:
                    ctx.participant = normalize_jid(message.reply_to_sender)
                ctx.quotedMessage.CopyFrom(e2e.Message(conversation=message.reply_to_text or ""))
            msg = e2e.Message(
                extendedTextMessage=e2e.ExtendedTextMessage(text=message.text, contextInfo=ctx)
            )
        else:
            msg = e2e.Message(conversation=message.text)
        resp = await self._call("send the message", client.send_message, to, msg)
        return _send_result(resp)

    async def send_media(self, media: OutboundMedia) -> SendResult:
        client, nz = self._require_connected()
        kind = media.kind
        if kind in (MessageKind.voice, MessageKind.audio, MessageKind.video, MessageKind.sticker):
            if not _ffmpeg_available():
                raise TransportError(
                    f"Sending a {kind.value} needs ffmpeg and ffprobe; install ffmpeg "
                    "(e.g. apt install ffmpeg / brew install ffmpeg) and try again."
                )
        data = bytes(media.data)  # bytes only: neonize treats a str as a path or URL
        builders: dict[MessageKind, tuple[str, Callable[[], Any]]] = {
            MessageKind.image: (
                "imageMessage",
                lambda: client.build_image_message(data, caption=media.caption),
            ),
            MessageKind.video: (
                "videoMessage",
                lambda: client.build_video_message(data, caption=media.caption),
            ),
            MessageKind.audio: ("audioMessage", lambda: client.build_audio_message(data)),
            MessageKind.voice: ("audioMessage", lambda: client.build_audio_message(data, ptt=True)),
            MessageKind.sticker: ("stickerMessage", lambda: client.build_sticker_message(data)),
            MessageKind.document: (
                "documentMessage",
                lambda: client.build_document_message(
                    data,
                    caption=media.caption,
                    filename=media.filename,
                    title=media.filename,
                    mimetype=media.mime_type,
                ),
            ),
        }
        if kind not in builders:
            raise TransportError(f"Cannot send a {kind.value} as media.")
        field, build = builders[kind]
        msg = await self._call(f"upload the {kind.value}", build)
        if kind is MessageKind.voice:
            # neonize takes libmagic's "audio/ogg"; WhatsApp plays voice notes declared as Opus.
            msg.audioMessage.mimetype = "audio/ogg; codecs=opus"
        if media.reply_to_id:
            getattr(msg, field).contextInfo.stanzaID = media.reply_to_id
        to = _jid_proto(nz["utils"], media.chat_jid)
        resp = await self._call(f"send the {kind.value}", client.send_message, to, msg)
        return _send_result(resp)

    async def send_reaction(
        self, chat_jid: str, message_id: str, sender: str | None, emoji: str
    ) -> SendResult:
        client, nz = self._require_connected()
        utils = nz["utils"]
        chat = _jid_proto(utils, chat_jid)
        author = sender or self._account_jid or chat_jid
        msg = await self._call(
            "build the reaction",
            client.build_reaction,
            chat,
            _jid_proto(utils, author),
            message_id,
            emoji,
        )
        resp = await self._call("send the reaction", client.send_message, chat, msg)
        return _send_result(resp)

    async def mark_read(self, chat_jid: str, message_ids: list[str], sender: str | None) -> None:
        client, nz = self._require_connected()
        if not message_ids:
            return
        if sender is None and is_group(chat_jid):
            raise TransportError("Marking group messages read needs the messages' sender.")
        utils = nz["utils"]
        await self._call(
            "mark the messages read",
            client.mark_read,
            *message_ids,
            chat=_jid_proto(utils, chat_jid),
            sender=_jid_proto(utils, sender or chat_jid),
            receipt=nz["enum"].ReceiptType.READ,
        )

    async def set_typing(self, chat_jid: str, typing: bool) -> None:
        client, nz = self._require_connected()
        enum = nz["enum"]
        state = (
            enum.ChatPresence.CHAT_PRESENCE_COMPOSING
            if typing
            else enum.ChatPresence.CHAT_PRESENCE_PAUSED
        )
        await self._call(
            "send the typing indicator",
            client.send_chat_presence,
            _jid_proto(nz["utils"], chat_jid),
            state,
            enum.ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
        )

    async def download_media(
        self, chat_jid: str, message_id: str, media: dict[str, object]
    ) -> bytes:
        client, nz = self._require_connected()
        convert = nz["convert"]
        fields = {k: v for k, v in media.items() if k in MediaInfo.model_fields}
        raw_kind = media.get("kind")
        try:
            info = MediaInfo.model_validate(fields)
            kind = MessageKind(raw_kind) if raw_kind else None
            msg = convert.download_message(info, kind)
        except ValueError as exc:
            raise TransportError(f"Cannot download message {message_id}: {exc}") from exc
        try:
            data = await self._call("download the attachment", client.download_any, msg)
        except TransportError as exc:
            if _EXPIRED_MEDIA.search(str(exc)):
                # whatsmeow can ask the phone to re-upload (SendMediaRetryReceipt), but neonize
                # 0.5.2 binds neither that call nor the MediaRetry event, so we cannot.
                raise MediaUnavailable(
                    f"The attachment of message {message_id} has expired on WhatsApp's servers "
                    f"({exc}). Open the chat on your phone to re-download it there, or ask the "
                    "sender to send it again."
                ) from exc
            raise
        if not isinstance(data, bytes | bytearray):
            raise TransportError(f"WhatsApp returned no data for message {message_id}.")
        return bytes(data)

    async def pair_phone(self, phone: str) -> str:
        if self._client is None or self._nz is None:
            raise NotConnected("Start the bridge before pairing.")
        if self.is_paired() and self._state is not ConnectionState.pairing:
            raise TransportError("This session is already paired; log out first to pair again.")
        digits = user_part(phone_to_jid(phone))
        # PairPhone only works once the websocket is up, i.e. after the first QR code.
        if not await asyncio.to_thread(self._qr_seen.wait, 20.0):
            raise NotConnected(
                f"WhatsApp is not ready for pairing (state: {self._state.value}); try again."
            )
        enum = self._nz["enum"]
        code = await self._call(
            "request a pairing code",
            self._client.PairPhone,
            digits,
            True,
            enum.ClientName.LINUX,
            enum.ClientType.CHROME,
        )
        self._emit(
            PairingEvent(
                qr=None,
                code=code,
                expires_at=datetime.now(timezone.utc) + timedelta(seconds=self._qr_window),
            )
        )
        return code

    async def logout(self) -> None:
        client, _ = self._require_connected()
        await self._call("log out", client.logout)
        self._halt = True
        self._set_state(ConnectionState.logged_out, "Logged out; pair again to reconnect.")
        # Keep the event stream open: the bridge stays up and can pair again with start().
        await self._halt_connection()


# ---------------------------------------------------------------- helpers


def _guarded(fn: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def handler(client: Any, ev: Any) -> None:
        try:
            fn(client, ev)
        except Exception:
            logger.exception("WhatsApp event handler failed for %s", type(ev).__name__)

    return handler


def _unreachable_detail(error: str, retry_in: float) -> str:
    short = error
    if "no such host" in error or "lookup" in error:
        short = "DNS lookup of web.whatsapp.com failed (no internet?)"
    elif "connection refused" in error:
        short = "connection refused"
    elif "timeout" in error.lower() or "no answer" in error:
        short = error if "no answer" in error else "timed out"
    return f"{UNREACHABLE}{short}. Retrying in about {retry_in:.1f} s. ({error})"


def _send_result(resp: Any) -> SendResult:
    ts = datetime.fromtimestamp(resp.Timestamp, tz=timezone.utc) if resp.Timestamp else None
    return SendResult(id=resp.ID, timestamp=ts or datetime.now(timezone.utc))


def _map_error(what: str, exc: Exception) -> TransportError:
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if (
        any(
            s in low
            for s in ("client is nil", "not connected", "websocket not connected", "not logged in")
        )
        or "doesn't contain a device jid" in low
    ):
        return NotConnected(f"Could not {what}: WhatsApp is not connected ({text}).")
    return TransportError(f"Could not {what}: {text}")
