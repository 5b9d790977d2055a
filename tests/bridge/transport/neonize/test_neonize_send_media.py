"""Sending media through NeonizeTransport, checked at the Go FFI edge (`Upload`, `SendMessage`,
`DownloadAny` replaced; neonize's own Python runs unchanged): the upload's key type comes from the
message kind, the keys of what I send are stored, a media reply is a real reply, and my own
attachment downloads again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bridge.control.models import DownloadRequest
from bridge.send.media_files import OutgoingFile
from store.models import ContactRecord, MessageKind
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.fake_gocode import full
from tests.bridge.transport.neonize.in_process import connected_neonize, ingest_dispatched
from tests.bridge.transport.neonize.neonize_factory import E, N
from tests.harness import route_rig

pytestmark = pytest.mark.anyio

from neonize._binder import gocode  # noqa: E402
from neonize.utils.enum import MediaType  # noqa: E402

ALICE_JID = f"{f.ALICE}@s.whatsapp.net"
# An audio-only MP4 (brand isom): libmagic calls it video/mp4.
AUDIO_MP4 = b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41" + b"\x00\x00\x00\x08free" * 64


class FakeMediaGo:
    """Upload stores the bytes under fresh keys; DownloadAny gives them back only for the exact
    directPath, mediaKey and file hashes Upload returned (what the CDN and decryption need)."""

    def __init__(self) -> None:
        self.uploads: list[tuple[bytes, int]] = []
        self.sent: list[E.Message] = []
        self.blobs: dict[tuple[str, bytes, bytes], bytes] = {}

    def Upload(self, _uuid: bytes, data: bytes, size: int, media_type: int) -> bytes:  # noqa: N802
        assert size == len(data)
        self.uploads.append((data, media_type))
        key = os.urandom(32)
        path = f"/v/t62.7117-24/{len(self.uploads)}.enc"
        enc_sha = hashlib.sha256(key + data).digest()
        self.blobs[(path, key, enc_sha)] = data
        resp = full(
            N.UploadResponse(
                url=f"https://mmg.whatsapp.net{path}",
                DirectPath=path,
                Handle="",
                MediaKey=key,
                FileEncSHA256=enc_sha,
                FileSHA256=hashlib.sha256(data).digest(),
                FileLength=len(data),
            )
        )
        return N.UploadReturnFunction(UploadResponse=resp).SerializeToString()

    def SendMessage(self, _uuid: bytes, _to: bytes, _tl: int, msg: bytes, _ml: int) -> bytes:  # noqa: N802
        self.sent.append(E.Message.FromString(msg))
        resp = full(N.SendResponse(ID=f"3EB0SENT{len(self.sent):04d}", Timestamp=1_700_000_500))
        return N.SendMessageReturnFunction(SendResponse=resp).SerializeToString()

    def DownloadAny(self, _uuid: bytes, payload: bytes, _size: int) -> bytes:  # noqa: N802
        msg = E.Message.FromString(payload)
        (_, sub), *_ = msg.ListFields()
        data = self.blobs.get((sub.directPath, sub.mediaKey, sub.fileEncSHA256))
        if data is None or hashlib.sha256(data).digest() != sub.fileSHA256:
            return N.DownloadReturnFunction(Error="invalid media hmac").SerializeToString()
        return N.DownloadReturnFunction(Binary=data).SerializeToString()


async def test_voice_note_from_audio_mp4_and_an_image_reply_are_built_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = connected_neonize(tmp_path)
    go = FakeMediaGo()
    for name in ("Upload", "SendMessage", "DownloadAny"):
        monkeypatch.setattr(gocode, name, getattr(go, name))
    assert MediaType.from_magic(AUDIO_MP4) is MediaType.MediaVideo  # the trap we avoid
    async with route_rig(tmp_path / "data", t) as r:
        await r.writer.run(
            r.writer.writer.upsert_contacts, [ContactRecord(jid=ALICE_JID, saved_name="Alice")]
        )
        await ingest_dispatched(t, r, f.message_ev(f.text("send me the photo"), msg_id="Q1"))

        voice = OutgoingFile(
            path=tmp_path / "note.m4a",
            data=AUDIO_MP4,
            kind=MessageKind.voice,
            mime_type="audio/mp4",
            filename="note.m4a",
        )
        sent_voice = await r.bridge.sender.send_media(ALICE_JID, voice)
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 200
        image = OutgoingFile(
            path=tmp_path / "p.jpg",
            data=photo,
            kind=MessageKind.image,
            mime_type="image/jpeg",
            filename="p.jpg",
        )
        sent_image = await r.bridge.sender.send_media(
            ALICE_JID, image, caption="here", reply_to="Q1"
        )

        assert [mt for _, mt in go.uploads] == [
            MediaType.MediaAudio.value,  # audio keys, not libmagic's video
            MediaType.MediaImage.value,
        ]
        audio = go.sent[0].audioMessage
        key, path = audio.mediaKey, audio.directPath
        assert audio.PTT and audio.mimetype == "audio/mp4" and audio.fileLength == len(AUDIO_MP4)
        assert (path, key) in {(p, k) for (p, k, _) in go.blobs}
        img = go.sent[1].imageMessage
        assert img.caption == "here" and img.mimetype == "image/jpeg"
        ctx = img.contextInfo
        assert ctx.stanzaID == "Q1" and ctx.participant == ALICE_JID
        assert ctx.quotedMessage.conversation == "send me the photo"

        # My own attachments download again: the store kept path and keys.
        for sent, data in ((sent_voice, AUDIO_MP4), (sent_image, photo)):
            got = await r.messaging.download(DownloadRequest(chat=ALICE_JID, message_id=sent.id))
            assert Path(got.path).read_bytes() == data
        stored = r.reader.get_message(ALICE_JID, sent_image.id)
        assert stored.reply_to is not None and stored.reply_to.id == "Q1"
