"""The outbound path policy and the download folder, on real files, folders and symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.paths import DataPaths
from bridge.send import media_files as mf
from mcp_server.mentions import resolve_mentions
from store.models import GroupParticipant, MessageKind

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_HEAD = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture
def data(tmp_path: Path) -> DataPaths:
    paths = DataPaths(tmp_path / "data")
    paths.ensure()
    return paths


def roots_of(paths: DataPaths) -> list[Path]:
    return mf.parse_roots("", paths.root)


def test_default_root_is_the_outbox_and_relative_paths_live_there(data: DataPaths) -> None:
    (data.outbox / "photo.png").write_bytes(PNG_HEAD)
    roots = roots_of(data)
    assert roots == [Path(os.path.realpath(data.outbox))]
    got = mf.check_outbound_path("photo.png", roots, data.root)
    assert got == Path(os.path.realpath(data.outbox / "photo.png"))


def test_etc_passwd_is_refused_naming_the_allowed_folder(data: DataPaths) -> None:
    with pytest.raises(mf.MediaFileError) as err:
        mf.check_outbound_path("/etc/passwd", roots_of(data), data.root)
    assert "not inside an allowed folder" in str(err.value)
    assert str(os.path.realpath(data.outbox)) in str(err.value)


def test_dot_dot_is_refused_even_when_it_would_land_inside(data: DataPaths) -> None:
    (data.outbox / "a").mkdir()
    (data.outbox / "b.png").write_bytes(PNG_HEAD)
    for raw in ("../messages.db", "a/../b.png", f"{data.outbox}/../outbox/b.png"):
        with pytest.raises(mf.MediaFileError, match=r"'\.\.' are refused"):
            mf.check_outbound_path(raw, roots_of(data), data.root)


def test_symlink_out_of_the_outbox_is_refused(data: DataPaths, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for sending", encoding="utf-8")
    (data.outbox / "innocent.png").symlink_to(secret)
    (data.outbox / "dir").symlink_to(tmp_path)
    for raw in ("innocent.png", str(data.outbox / "dir" / "secret.txt")):
        with pytest.raises(mf.MediaFileError, match="symlink"):
            mf.check_outbound_path(raw, roots_of(data), data.root)


def test_symlink_that_stays_inside_is_fine(data: DataPaths) -> None:
    (data.outbox / "real.png").write_bytes(PNG_HEAD)
    (data.outbox / "alias.png").symlink_to(data.outbox / "real.png")
    got = mf.check_outbound_path("alias.png", roots_of(data), data.root)
    assert got.name == "real.png"


def test_a_wide_root_still_never_sends_the_session_or_the_store(
    data: DataPaths, tmp_path: Path
) -> None:
    data.session_db.write_bytes(b"signal keys")
    wide = mf.parse_roots(str(tmp_path), data.root)
    with pytest.raises(mf.MediaFileError, match="never sent"):
        mf.check_outbound_path(str(data.session_db), wide, data.root)
    (data.outbox / "ok.png").write_bytes(PNG_HEAD)
    assert mf.check_outbound_path(str(data.outbox / "ok.png"), wide, data.root)


def test_roots_must_be_absolute(data: DataPaths) -> None:
    with pytest.raises(mf.MediaFileError, match="absolute"):
        mf.parse_roots("relative/folder", data.root)
    two = mf.parse_roots(f"/tmp{os.pathsep}/var", data.root)
    assert len(two) == 2


def test_missing_files_and_folders_are_clear_errors(data: DataPaths) -> None:
    with pytest.raises(mf.MediaFileError, match="No file"):
        mf.check_outbound_path("nope.png", roots_of(data), data.root)
    (data.outbox / "folder").mkdir()
    with pytest.raises(mf.MediaFileError, match="not a regular file"):
        mf.check_outbound_path("folder", roots_of(data), data.root)


def test_kind_comes_from_the_content_and_limits_follow_the_kind(data: DataPaths) -> None:
    assert mf.classify("x.jpg", JPEG_HEAD, as_voice_note=False) == (MessageKind.image, "image/jpeg")
    # A .png that is not an image goes as a document, not as a broken photo.
    assert mf.classify("fake.png", b"hello", as_voice_note=False)[0] is MessageKind.document
    assert mf.classify("clip.mp4", b"\x00" * 8, as_voice_note=False)[0] is MessageKind.video
    assert mf.classify("a.pdf", b"%PDF", as_voice_note=False) == (
        MessageKind.document,
        "application/pdf",
    )
    big = data.outbox / "big.png"
    big.write_bytes(PNG_HEAD + b"\x00" * (5 * mf.MB))
    with pytest.raises(mf.MediaFileError, match=r"at most 5 MB"):
        mf.load_outgoing("big.png", roots_of(data), data.root)
    # The same size is fine for a document.
    (data.outbox / "big.pdf").write_bytes(b"%PDF-1.4" + b"\x00" * (5 * mf.MB))
    doc = mf.load_outgoing("big.pdf", roots_of(data), data.root)
    assert doc.kind is MessageKind.document and len(doc.data) == 5 * mf.MB + 8
    (data.outbox / "empty.pdf").write_bytes(b"")
    with pytest.raises(mf.MediaFileError, match="empty"):
        mf.load_outgoing("empty.pdf", roots_of(data), data.root)


def test_voice_note_without_ffmpeg_says_what_to_install(
    data: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data.outbox / "memo.mp3").write_bytes(b"ID3" + b"\x00" * 64)
    monkeypatch.setenv("PATH", str(data.root))  # a PATH without ffmpeg
    with pytest.raises(mf.MediaFileError) as err:
        mf.load_outgoing("memo.mp3", roots_of(data), data.root, as_voice_note=True)
    assert "apt-get install ffmpeg" in str(err.value) and "brew install ffmpeg" in str(err.value)
    # Already OGG/Opus: no conversion, no ffmpeg needed.
    ogg = b"OggS" + b"\x00" * 24 + b"OpusHead" + b"\x01" * 64
    (data.outbox / "memo.ogg").write_bytes(ogg)
    voice = mf.load_outgoing("memo.ogg", roots_of(data), data.root, as_voice_note=True)
    assert voice.kind is MessageKind.voice and voice.mime_type == mf.VOICE_MIME
    with pytest.raises(mf.MediaFileError, match="only audio"):
        (data.outbox / "doc.pdf").write_bytes(b"%PDF-1.4")
        mf.load_outgoing("doc.pdf", roots_of(data), data.root, as_voice_note=True)


def test_downloads_stay_inside_media_whatever_the_ids(data: DataPaths) -> None:
    nasty = mf.download_path(data.media, "../../etc@s.whatsapp.net", "../../x", None, "../a.pdf")
    assert os.path.realpath(nasty).startswith(os.path.realpath(data.media) + os.sep)
    mf.save_download(nasty, b"data")
    assert nasty.read_bytes() == b"data" and (nasty.stat().st_mode & 0o777) == 0o600
    assert mf.download_path(data.media, "1@s.whatsapp.net", "ID1", "image/jpeg", None).suffix == (
        ".jpg"
    )
    with pytest.raises(mf.MediaFileError):
        mf.media_path_for_reading("/etc/passwd", data.media)


ANA = GroupParticipant(jid="15550000001@s.whatsapp.net", name="Ana Lima", phone="+15550000001")
ANDRE = GroupParticipant(jid="15550000002@s.whatsapp.net", name="André", phone="15550000002")
ANA_B = GroupParticipant(jid="15550000003@s.whatsapp.net", name="Ana Souza", phone="15550000003")


def test_mentions_by_name_first_name_and_phone() -> None:
    people = [ANA, ANDRE, ANA_B]
    got = resolve_mentions("@Ana Lima and @andre, ping @+15550000003!", people)
    assert got.text == "@15550000001 and @15550000002, ping @15550000003!"
    assert got.jids == [ANA.jid, ANDRE.jid, ANA_B.jid]


def test_mentions_leave_emails_ambiguous_and_unknown_names_alone() -> None:
    people = [ANA, ANDRE, ANA_B]
    text = "mail ana@example.com, @Ana (two Anas), @Zoe, @15559999999"
    got = resolve_mentions(text, people)
    assert got.text == text and got.jids == []
