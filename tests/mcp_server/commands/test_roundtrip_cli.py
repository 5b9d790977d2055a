"""`whatsapp-mcp export` and `whatsapp-mcp import` as a person runs them (real processes)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bridge.paths import DataPaths
from store.db import open_reader
from store.models import HistoryBatch, MessageRecord, ReactionRecord
from tests.helpers import seeded_contact
from tests.store.chat_export.conftest import ALICE, FIXTURES, ME, Store, make_zip


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _seed(store: Store) -> None:
    store.import_(FIXTURES / "android_24h_dmy_en.txt", chat=ALICE, timezone="UTC")
    t = datetime(2024, 4, 2, 8, 0, 5, tzinfo=UTC)
    store.writer.ingest_history(
        HistoryBatch(
            messages=[
                MessageRecord(
                    id="3EB0R1", chat_jid=ALICE, sender=ALICE, content="synced", timestamp=t
                ),
                MessageRecord(
                    id="3EB0R2",
                    chat_jid=ALICE,
                    sender=ME,
                    is_from_me=True,
                    content="a reply\nover two lines",
                    reply_to_id="3EB0R1",
                    reply_to_sender=ALICE,
                    timestamp=t.replace(second=30),
                ),
            ]
        )
    )
    store.writer.apply_reaction(
        ReactionRecord(chat_jid=ALICE, message_id="3EB0R2", sender=ALICE, emoji="❤️", timestamp=t)
    )


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("source")
        out.append(row)
    return out


def test_jsonl_export_imported_into_a_fresh_store_round_trips_every_message(tmp_path: Path) -> None:
    original = Store(tmp_path / "a")
    _seed(original)
    original.close()
    first = tmp_path / "alice.jsonl"
    done = cli(
        "export",
        "--data-dir",
        str(tmp_path / "a"),
        "--chat",
        "Alice",
        "--format",
        "jsonl",
        str(first),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"8 messages written to {first}"

    fresh = tmp_path / "b"
    done = cli("import", "--data-dir", str(fresh), str(first))
    assert done.returncode == 0, done.stderr
    assert "alice.jsonl: 8 imported, 0 already present" in done.stdout
    assert "8/8 messages" in done.stderr  # the progress bar

    second = tmp_path / "again.jsonl"
    done = cli("export", "--data-dir", str(fresh), "--format", "jsonl", str(second))
    assert done.returncode == 0, done.stderr
    before, after = _lines(first), _lines(second)
    assert after == before
    reply = next(m for m in after if m["id"] == "3EB0R2")
    assert reply["reply_to_id"] == "3EB0R1" and reply["text"] == "a reply\nover two lines"
    assert [(r["emoji"], r["sender"]) for r in reply["reactions"]] == [("❤️", ALICE)]  # type: ignore[union-attr]


def test_export_formats_and_contacts(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    _seed(store)
    store.import_(
        make_zip(tmp_path / "WhatsApp Chat with Alice.zip"), timezone="UTC", date_order="dmy"
    )
    store.close()
    data = str(tmp_path / "a")
    for fmt in ("json", "md", "csv"):
        assert (
            cli(
                "export", "--data-dir", data, "--format", fmt, str(tmp_path / f"all.{fmt}")
            ).returncode
            == 0
        )
    everything = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert len(everything) == 12 and {m["chat_jid"] for m in everything} == {ALICE}
    md = (tmp_path / "all.md").read_text(encoding="utf-8")
    assert "## Alice (15551110001@s.whatsapp.net)" in md
    assert "- 2024-04-02 08:00 UTC **me**: a reply\n  over two lines (❤️)" in md
    assert "[voice: PTT-20240401-WA0003.opus]" in md
    rows = _csv(tmp_path / "all.csv")
    assert len(rows) == 12 and rows[0]["sender_phone"] == ""

    assert (
        cli(
            "export", "--data-dir", data, "--contacts", "--format", "vcf", str(tmp_path / "c.vcf")
        ).returncode
        == 0
    )
    vcf = (tmp_path / "c.vcf").read_bytes().decode("utf-8")
    assert vcf.count("BEGIN:VCARD") == 5
    assert "FN:Jürgen\r\n" in vcf and "TEL;TYPE=CELL;waid=4915112345678:+4915112345678" in vcf
    assert (
        cli(
            "export", "--data-dir", data, "--contacts", "--format", "csv", str(tmp_path / "c.csv")
        ).returncode
        == 0
    )
    people = _csv(tmp_path / "c.csv")
    assert {p["name"] for p in people} == {"Alice", "Bob", "Jürgen", "Maria", "Sam"}


def test_cli_import_with_a_running_bridge_goes_through_it(
    tmp_path: Path, running_bridge: DataPaths
) -> None:
    chat = seeded_contact(running_bridge)
    src = tmp_path / "export.txt"
    src.write_text("13/03/2024, 09:00 - Pat: hi from the archive\n", encoding="utf-8")
    done = cli("import", "--data-dir", str(running_bridge.root), str(src), "--chat", chat)
    assert done.returncode == 0, done.stderr
    assert "export.txt: 1 imported, 0 already present" in done.stdout
    # The bridge reads only from its import folder: the CLI handed it a copy there.
    copied = running_bridge.root / "imports" / src.name
    assert copied.read_text(encoding="utf-8") == src.read_text(encoding="utf-8")
    conn = open_reader(running_bridge.messages_db)
    try:
        row = conn.execute(
            "SELECT chat_jid, source FROM messages WHERE content = 'hi from the archive'"
        ).fetchone()
    finally:
        conn.close()
    assert tuple(row) == (chat, "import")
