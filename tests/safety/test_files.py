"""Files (issue 13): the file actually opened is judged, not the path checked before; download
names are unique per (chat, message); the download cache compares WhatsApp's hash."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from bridge.send import media_files as mf

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "outbox").mkdir(parents=True)
    (d / "media").mkdir()
    (d / "session.db").write_bytes(b"SIGNAL KEYS " * 10)
    return d


def test_a_hard_link_in_the_outbox_is_refused(data_dir: Path) -> None:
    os.link(data_dir / "session.db", data_dir / "outbox" / "notes.txt")
    roots = mf.parse_roots("", data_dir)
    with pytest.raises(mf.MediaFileError, match="hard links"):
        mf.load_outgoing("notes.txt", roots, data_dir)
    (data_dir / "outbox" / "own.txt").write_text("mine", encoding="utf-8")
    assert mf.load_outgoing("own.txt", roots, data_dir).data == b"mine"


def test_a_folder_swapped_for_a_symlink_after_the_check_cannot_load_the_session(
    data_dir: Path,
) -> None:
    # The user's roots include the whole data dir (too wide, but allowed).
    roots = [Path(os.path.realpath(data_dir))]
    sub = data_dir / "outbox" / "sub"
    sub.mkdir()
    (sub / "session.db").write_bytes(PNG)  # a harmless decoy passes the path check…
    checked = mf.check_outbound_path(str(sub / "session.db"), roots, data_dir)
    # …then the folder becomes a symlink to the data dir before the bridge opens the file.
    (sub / "session.db").unlink()
    sub.rmdir()
    sub.symlink_to(data_dir, target_is_directory=True)
    with pytest.raises(mf.MediaFileError, match="own data"):
        mf._open_checked(checked, roots, data_dir)


def test_download_names_never_collide_across_messages(data_dir: Path) -> None:
    media = data_dir / "media"
    pairs = [
        ("1@s.whatsapp.net", "A/B"),
        ("1@s.whatsapp.net", "A_B"),
        ("1@s.whatsapp.net", "A:B"),
        ("1_at_s.whatsapp.net@s.whatsapp.net", "A_B"),
    ]
    paths = {mf.download_path(media, c, m, "image/jpeg", None) for c, m in pairs}
    assert len(paths) == len(pairs)
    again = mf.download_path(media, "1@s.whatsapp.net", "A/B", "image/jpeg", None)
    assert again in paths  # stable: the same message always maps to its own file


def test_the_cache_trusts_a_file_only_when_its_hash_matches(data_dir: Path) -> None:
    target = mf.download_path(data_dir / "media", "1@s.whatsapp.net", "M1", "image/png", None)
    real = PNG + b"real"
    digest = base64.b64encode(hashlib.sha256(real).digest()).decode()
    assert mf.cached_download(target, len(real), digest) == (False, 0)  # nothing there yet
    mf.save_download(target, PNG + b"fake")  # same size, other bytes
    assert mf.cached_download(target, len(real), digest) == (False, 0)
    mf.save_download(target, real)
    assert mf.cached_download(target, len(real), digest) == (True, len(real))
    assert mf.cached_download(target, len(real), None) == (True, len(real))  # no hash known
    assert mf.cached_download(target, len(real) + 1, None) == (False, 0)
