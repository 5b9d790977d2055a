"""Downloads through the bridge's real download route, with a real store, for both transports.

NeonizeTransport: a MessageEv built from neonize's real protobuf classes goes through neonize's
real dispatch, our conversion and the store; the download then runs through neonize's own
`download_any` down to the Go FFI function `DownloadAny`, which is the one thing replaced here
(it would fetch from WhatsApp's CDN).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from bridge.control.models import DownloadRequest
from bridge.server.error_map import map_error
from bridge.transport.protocol import MediaUnavailable
from bridge.transport.simulated.network import SimulatedTransport
from store.models import MediaInfo, MessageKind, MessageRecord
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.in_process import connected_neonize, ingest_dispatched
from tests.bridge.transport.neonize.neonize_factory import E, N
from tests.harness import route_rig

pytestmark = pytest.mark.anyio

from neonize._binder import gocode  # noqa: E402  (neonize_factory loads neonize the bridge way)


class FakeCdn:
    """Stands in for Go's DownloadAny: records the serialized waE2E.Message it was handed."""

    def __init__(self, body: bytes = b"", error: str = "") -> None:
        self.calls: list[tuple[bytes, E.Message]] = []
        self.body, self.error = body, error

    def __call__(self, uuid: bytes, payload: bytes, size: int) -> bytes:
        assert size == len(payload)
        self.calls.append((uuid, E.Message.FromString(payload)))
        return N.DownloadReturnFunction(Binary=self.body, Error=self.error).SerializeToString()


async def test_neonize_image_download_builds_the_exact_call_and_saves_into_media(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = connected_neonize(tmp_path)
    assert t._client._NewClient__client is gocode  # the FFI object neonize itself calls
    photo = b"\xff\xd8\xff\xe0 pretend jpeg bytes"
    cdn = FakeCdn(body=photo)
    monkeypatch.setattr(gocode, "DownloadAny", cdn)
    async with route_rig(tmp_path / "data", t) as r:
        rec = await ingest_dispatched(t, r, f.message_ev(f.image("sunset"), msg_id="IMG1"))
        assert rec.kind is MessageKind.image and rec.media is not None
        got = await r.messaging.download(DownloadRequest(chat=rec.chat_jid, message_id="IMG1"))

        assert len(cdn.calls) == 1
        uuid, sent = cdn.calls[0]
        assert uuid == t._client.uuid
        img = sent.imageMessage
        assert img.directPath == "/v/t62.7118-24/abc.enc?ccb=11-4"
        assert img.URL == "https://mmg.whatsapp.net/v/t62/abc.enc"
        assert img.mediaKey == b"\x02" * 32 and img.fileEncSHA256 == b"\x03" * 32
        assert img.fileSHA256 == b"\x01" * 32 and img.fileLength == 12345
        assert img.mimetype == "image/jpeg"

        saved = Path(got.path)
        assert saved.read_bytes() == photo and got.size == len(photo)
        assert saved.parent.parent == r.paths.media and saved.suffix == ".jpg"
        assert (got.kind, got.mime_type, got.cached) == (MessageKind.image, "image/jpeg", False)


async def test_neonize_voice_and_document_downloads_carry_their_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = connected_neonize(tmp_path)
    cdn = FakeCdn(body=b"%PDF-1.4 bytes")
    monkeypatch.setattr(gocode, "DownloadAny", cdn)
    doc = E.Message(
        documentMessage=E.DocumentMessage(
            mimetype="application/pdf",
            fileName="invoice.pdf",
            directPath="/v/t62.7119-24/doc.enc",
            mediaKey=b"\x07" * 32,
            fileEncSHA256=b"\x08" * 32,
            fileSHA256=hashlib.sha256(b"%PDF-1.4 bytes").digest(),
            fileLength=14,
        )
    )
    async with route_rig(tmp_path / "data", t) as r:
        voice = await ingest_dispatched(t, r, f.message_ev(f.voice(7), msg_id="VOICE1"))
        await r.messaging.download(DownloadRequest(chat=voice.chat_jid, message_id="VOICE1"))
        pdf = await ingest_dispatched(t, r, f.message_ev(doc, msg_id="DOC1"))
        got = await r.messaging.download(DownloadRequest(chat=pdf.chat_jid, message_id="DOC1"))
        audio, document = cdn.calls[0][1], cdn.calls[1][1]
        assert audio.HasField("audioMessage") and audio.audioMessage.PTT is True
        assert audio.audioMessage.directPath == "/v/t62.7117-24/voice.enc"
        assert document.HasField("documentMessage")
        assert document.documentMessage.mediaKey == b"\x07" * 32
        # <id>-<hash of (chat, id)>-<document name>: unique per message (issue 13).
        assert re.fullmatch(r"DOC1-[0-9a-f]{12}-invoice\.pdf", Path(got.path).name)
        assert got.filename == "invoice.pdf"
        # Size matches what the message announced: the second call is served from media/.
        again = await r.messaging.download(DownloadRequest(chat=pdf.chat_jid, message_id="DOC1"))
        assert again.cached is True and len(cdn.calls) == 2


async def test_neonize_expired_media_is_a_clear_410(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = connected_neonize(tmp_path)
    monkeypatch.setattr(
        gocode, "DownloadAny", FakeCdn(error="download failed with status code 410")
    )
    async with route_rig(tmp_path / "data", t) as r:
        rec = await ingest_dispatched(t, r, f.message_ev(f.image(), msg_id="OLD1"))
        with pytest.raises(MediaUnavailable) as err:
            await r.messaging.download(DownloadRequest(chat=rec.chat_jid, message_id="OLD1"))
        answer = map_error(err.value)  # what the control API answers
        assert answer is not None and (answer.status, answer.code) == (410, "media_expired")
        assert "expired" in answer.message and "ask the sender" in answer.message
        assert not any(r.paths.media.rglob("*OLD1*"))
    # Any other failure stays a plain WhatsApp error, not "expired".
    monkeypatch.setattr(gocode, "DownloadAny", FakeCdn(error="context deadline exceeded"))
    info = MediaInfo(
        mime_type="image/jpeg", direct_path="/d", media_key="AA==", file_enc_sha256="AA=="
    )
    with pytest.raises(Exception) as other:
        await t.download_media("x@s.whatsapp.net", "M", {**info.model_dump(), "kind": "image"})
    assert not isinstance(other.value, MediaUnavailable)
    assert "context deadline exceeded" in str(other.value)


async def test_simulated_media_the_phone_no_longer_has_is_a_clear_410(tmp_path: Path) -> None:
    t = SimulatedTransport(reply_delay=0)
    await t.start()
    async with route_rig(tmp_path / "data", t, WHATSAPP_MCP_SIMULATE="1") as r:
        gone = MessageRecord(
            id="GONE1",
            chat_jid="15550001234@s.whatsapp.net",
            sender="15550001234@s.whatsapp.net",
            timestamp=t.world.now,
            kind=MessageKind.image,
            media=MediaInfo(mime_type="image/png", file_size=10, direct_path="/v/sim/GONE1"),
        )
        await r.writer.run(r.writer.writer.ingest_message, gone)
        with pytest.raises(MediaUnavailable) as err:
            await r.messaging.download(DownloadRequest(chat=gone.chat_jid, message_id="GONE1"))
        answer = map_error(err.value)  # what the control API answers
        assert answer is not None and (answer.status, answer.code) == (410, "media_expired")
        assert "ask the sender" in answer.message.lower()
    await t.stop()
