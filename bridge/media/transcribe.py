"""Voice notes to text, in the bridge.

The audio is fetched through the same download path as `download_media` (into media/ only, with
its cache), sent to Gemini with a transcription-only instruction, no tools, as inline audio, and
the transcript stored on the message (store/transcripts.py), where FTS indexes it. A message is
sent to Gemini at most once per success: a stored transcript is always served from the store.
Concurrent requests for the same voice note share one Gemini call.

Errors are recorded on the message and raised as refusals (bridge/refusals.py) whose message
says what to do:
no key (how to set one), rate limited (retried with backoff first), too large, expired media.

Automatic mode (WHATSAPP_MCP_TRANSCRIBE=contacts|all) transcribes inbound voice notes as they
arrive, in the background, one at a time.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from typing import TYPE_CHECKING, NoReturn, Protocol

from bridge.autoreply.replier import ReplyFailed, ReplyRetryable, Transcribed, api_key_configured
from bridge.control.models import DownloadRequest
from bridge.control.transcribe import TranscribeRequest, TranscribeResponse
from bridge.media import downloads
from bridge.refusals import (
    Gone,
    NeedsSetup,
    Refused,
    TooLarge,
    Unavailable,
    Unsuitable,
    UpstreamRefused,
)
from bridge.transport.protocol import MediaUnavailable
from store import jid as jids
from store.errors import StoreError
from store.models import MessageKind, MessageRecord
from store.transcripts import TokenUse, TranscriptStore

if TYPE_CHECKING:
    from bridge.daemon import Bridge

log = logging.getLogger(__name__)

AUDIO_KINDS = frozenset({MessageKind.voice, MessageKind.audio})
# Gemini takes at most 20 MB of request inline; base64 makes audio 4/3 larger on the wire.
MAX_AUDIO_BYTES = 14 * 1024 * 1024
NO_KEY = (
    "No Gemini API key, so voice notes cannot be transcribed. Set GEMINI_API_KEY (a key from "
    "https://aistudio.google.com/apikey) in the env of the whatsapp-mcp entry in the MCP "
    "host's config, restart the host, then call transcribe_voice_note again."
)


class Transcriber(Protocol):
    async def transcribe(self, audio: bytes, mime_type: str) -> Transcribed: ...
    async def aclose(self) -> None: ...


class Transcription:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.settings = bridge.settings
        self._store: TranscriptStore | None = None
        self._model: Transcriber | None = None
        self._inflight: dict[tuple[str, str], asyncio.Future[TranscribeResponse]] = {}
        self._auto: asyncio.Queue[MessageRecord] = asyncio.Queue(maxsize=1000)
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        path = self.bridge.paths.messages_db
        self._store = await self.bridge.writer.open_feature(path, TranscriptStore, "transcription")
        if self._store is None:
            return
        if self.settings.transcribe != "off":
            self._task = asyncio.create_task(self._auto_loop(), name="transcribe-auto")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._model is not None:
            await self._model.aclose()
            self._model = None
        if self._store is not None:
            store, self._store = self._store, None
            await self.bridge.writer.run(store.close)

    def store(self) -> TranscriptStore:
        if self._store is None:
            raise StoreError("Transcription is unavailable: see bridge.log.")
        return self._store

    async def _get_model(self) -> Transcriber:
        if self._model is None:
            # Imported on first use: google-genai is slow to import, and most bridges never
            # transcribe (bridge/autoreply/gemini.py is its only importer).
            module = await asyncio.to_thread(importlib.import_module, "bridge.autoreply.gemini")
            model: Transcriber = module.GeminiTranscriber(self.settings.transcribe_model)
            self._model = model
            return model
        return self._model

    # ------------------------------------------------------------------ automatic mode

    def on_message(self, message: MessageRecord) -> None:
        """Queue an inbound voice note when automatic mode covers its sender."""
        # Only voice notes automatically; audio files (often music, often large) on request.
        if self._task is None or message.is_from_me or message.kind is not MessageKind.voice:
            return
        if not api_key_configured():
            return
        try:
            self._auto.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("transcription queue full; voice note %s left for later", message.id)

    async def _auto_loop(self) -> None:
        while True:
            message = await self._auto.get()
            try:
                chat = await self.bridge.writer.run(
                    self.bridge.writer.writer.resolve_jid, message.chat_jid
                )
                sender = await self.bridge.writer.run(
                    self.bridge.writer.writer.resolve_jid, message.sender or chat
                )
                # In a group, a saved contact's voice note is still theirs: judge the sender.
                if self.settings.transcribe == "contacts" and not await asyncio.to_thread(
                    self._is_saved_contact, sender
                ):
                    continue
                existing = await self.bridge.writer.run(self.store().get, chat, message.id)
                if existing is not None:
                    continue  # done, or failed: an explicit call retries, not the background
                await self.transcribe(TranscribeRequest(chat=chat, message_id=message.id))
            except Refused as exc:
                log.info("automatic transcription of %s failed: %s", message.id, exc.message)
            except Exception:  # top of a loop: one voice note must not stop the next
                log.exception("automatic transcription of %s failed", message.id)

    def _is_saved_contact(self, jid: str) -> bool:
        # As the auto-reply engine decides "saved contact" (bridge/autoreply/engine.py).
        return any(
            c.jid == jid and c.is_saved
            for c in self.bridge.reader.search_contacts(jids.user_part(jid), limit=20).items
        )

    # ------------------------------------------------------------------ on request

    async def transcribe(self, req: TranscribeRequest) -> TranscribeResponse:
        chat = await self.bridge.sender.resolve(req.chat)
        msg = self.bridge.reader.get_message(chat, req.message_id)
        key = (chat, msg.id)
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        fut: asyncio.Future[TranscribeResponse] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            result = await self._transcribe(chat, msg.id)
            fut.set_result(result)
            return result
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._inflight.pop(key, None)

    async def _transcribe(self, chat: str, message_id: str) -> TranscribeResponse:
        b = self.bridge
        msg = b.reader.get_message(chat, message_id)
        seconds = msg.media.seconds if msg.media else None
        if msg.kind not in AUDIO_KINDS or msg.media is None:
            raise Unsuitable(
                "not_a_voice_note",
                f"Message {msg.id} is a {msg.kind.value} message, not a voice note or audio; "
                "only those can be transcribed (list_messages shows each message's kind).",
            )
        store = self.store()
        cached = await b.writer.run(store.get, chat, msg.id)
        if cached is not None and cached.state == "done":
            return TranscribeResponse(transcript=cached, cached=True, seconds=seconds)
        if msg.media.file_size is not None and msg.media.file_size > MAX_AUDIO_BYTES:
            await self._fail(chat, msg.id, "too_large", self._too_large(msg.media.file_size), 0)
        try:
            got = await downloads.download(b, DownloadRequest(chat=chat, message_id=msg.id))
        except MediaUnavailable as exc:
            await self._fail(
                chat,
                msg.id,
                "media_expired",
                f"The audio of voice note {msg.id} is no longer on WhatsApp's servers or "
                f"the phone ({exc}), so it cannot be transcribed. Ask the sender "
                "to send it again.",
                0,
                refusal=Gone,
            )
        size = await asyncio.to_thread(os.path.getsize, got.path)
        if size > MAX_AUDIO_BYTES:
            await self._fail(chat, msg.id, "too_large", self._too_large(size), 0)
        audio = await asyncio.to_thread(_read, got.path)
        if not api_key_configured():
            await self._fail(chat, msg.id, "no_api_key", NO_KEY, 0, refusal=NeedsSetup)
        mime = (msg.media.mime_type or "audio/ogg").split(";", 1)[0].strip() or "audio/ogg"
        result, attempts = await self._generate(chat, msg.id, audio, mime)
        saved = await b.writer.run(
            lambda: store.save_done(
                chat,
                msg.id,
                text=result.text,
                language=result.language,
                model=self.settings.transcribe_model,
                attempts=attempts,
                tokens=TokenUse(
                    prompt_tokens=result.prompt_tokens,
                    output_tokens=result.output_tokens,
                    total_tokens=result.total_tokens,
                ),
            )
        )
        log.info(
            "transcribed %s in %s (%s tokens, %d attempt(s))",
            msg.id,
            chat,
            result.total_tokens,
            attempts,
        )
        return TranscribeResponse(transcript=saved, cached=False, seconds=seconds)

    async def _generate(
        self, chat: str, message_id: str, audio: bytes, mime: str
    ) -> tuple[Transcribed, int]:
        attempts = self.settings.autoreply_gemini_attempts
        delay = self.settings.autoreply_retry_delay
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                model = await self._get_model()
                return await model.transcribe(audio, mime), attempt
            except ReplyRetryable as exc:
                last = str(exc)
                log.info("transcription attempt %d of %s: %s", attempt, message_id, last)
                if attempt < attempts:
                    await asyncio.sleep(delay * 2 ** (attempt - 1))
            except ReplyFailed as exc:
                code = "no_api_key" if "No Gemini API key" in str(exc) else "gemini_error"
                message = NO_KEY if code == "no_api_key" else f"Gemini refused: {exc}"
                await self._fail(chat, message_id, code, message, attempt, refusal=UpstreamRefused)
        await self._fail(
            chat,
            message_id,
            "gemini_unavailable",
            f"Gemini kept failing after {attempts} tries ({last}). Try again in a minute "
            "(rate limits reset quickly).",
            attempts,
            refusal=Unavailable,
        )

    def _too_large(self, size: int) -> str:
        return (
            f"The audio is {size / 1048576:.1f} MB; Gemini takes at most "
            f"{MAX_AUDIO_BYTES // 1048576} MB of inline audio, so this one cannot be "
            "transcribed here. download_media saves it if the user wants to listen to it."
        )

    async def _fail(
        self,
        chat: str,
        message_id: str,
        code: str,
        message: str,
        attempts: int,
        *,
        refusal: type[Refused] = TooLarge,
    ) -> NoReturn:
        store = self.store()
        await self.bridge.writer.run(
            lambda: store.save_failed(
                chat,
                message_id,
                code=code,
                error=message,
                model=self.settings.transcribe_model,
                attempts=attempts,
            )
        )
        raise refusal(code, message)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
