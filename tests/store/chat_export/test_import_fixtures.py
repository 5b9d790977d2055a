"""Each published format variant imports to exactly the rows a person reading the export sees."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store.chat_export.parse import DateOrderUnknown, parse_export
from tests.store.chat_export.conftest import (
    ALICE,
    BOB,
    FIXTURES,
    GROUP,
    JUERGEN,
    MARIA,
    Store,
    integrity_ok,
    make_zip,
)


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def brief(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["sender"], r["sender_name"], r["is_from_me"], r["timestamp"], r["kind"], r["content"])
        for r in rows
    ]


ENCRYPTED = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them. Tap to learn more."
)


def test_android_24h_day_first(store: Store) -> None:
    report = store.import_(FIXTURES / "android_24h_dmy_en.txt", chat="Alice", timezone="UTC")
    assert (report.format, report.date_order, report.imported, report.bad_line_count) == (
        "android",
        "dmy",
        6,
        0,
    )
    assert report.senders == {"Alice": ALICE, "Sam": "me"}
    rows = store.rows(ALICE)
    assert brief(rows) == [
        (None, None, 0, utc("2024-03-12 14:05"), "system", ENCRYPTED),
        (ALICE, "Alice", 0, utc("2024-03-12 14:05"), "text", "Hi! Are we still on for Friday?"),
        (None, None, 1, utc("2024-03-12 14:07"), "text", "Yes, 7pm\nat the usual place\n\nsee you"),
        (ALICE, "Alice", 0, utc("2024-03-13 09:30"), "unknown", None),
        (ALICE, "Alice", 0, utc("2024-03-13 09:31"), "text", None),
        (None, None, 1, utc("2024-03-25 23:59"), "text", "Great, see you"),
    ]
    assert [(r["deleted"], r["edited"]) for r in rows][4:] == [(1, 0), (0, 1)]
    assert {r["source"] for r in rows} == {"import"}


def test_android_12h_month_first_with_narrow_no_break_space(store: Store) -> None:
    report = store.import_(
        FIXTURES / "android_12h_mdy_us.txt", chat=ALICE, timezone="America/New_York"
    )
    assert report.date_order == "mdy" and report.imported == 5
    # 12 March 2024 is after the US switch to daylight time: EDT, UTC-4.
    assert brief(store.rows(ALICE))[1:] == [
        (ALICE, "Alice", 0, utc("2024-03-12 18:05"), "text", "Morning run tomorrow?"),
        (None, None, 1, utc("2024-03-12 18:06"), "text", "Sure: 6:30 at the park"),
        (ALICE, "Alice", 0, utc("2024-03-13 04:30"), "text", "Can't sleep"),
        (None, None, 1, utc("2024-03-13 16:15"), "text", "Lunch?"),
    ]


def test_ios_bracketed_with_left_to_right_marks(store: Store) -> None:
    report = store.import_(
        FIXTURES / "ios_bracketed_en.txt", chat="Alice", timezone="Europe/London"
    )
    assert (report.format, report.date_order, report.imported) == ("ios", "dmy", 5)
    rows = store.rows(ALICE)
    assert brief(rows) == [
        (
            None,
            None,
            0,
            utc("2023-12-25 09:15:02"),
            "system",
            "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
            "WhatsApp, can read or listen to them.",
        ),
        (ALICE, "Alice", 0, utc("2023-12-25 09:15:30"), "text", "Merry Christmas!"),
        (
            None,
            None,
            1,
            utc("2023-12-25 09:16:01"),
            "text",
            "Merry Christmas 🎄\nSay hi to everyone",
        ),
        (ALICE, "Alice", 0, utc("2023-12-25 09:17:45"), "image", None),
        (None, None, 1, utc("2023-12-26 18:00:00"), "image", None),
    ]
    assert rows[4]["filename"] == "00000005-PHOTO-2023-12-26-18-00-00.jpg"
    # Not shipped with a bare .txt: named, but no local file.
    assert "local_path" not in json.loads(rows[4]["media_json"])


def test_german_export(store: Store) -> None:
    report = store.import_(FIXTURES / "android_de.txt", chat="Jürgen", timezone="Europe/Berlin")
    assert report.senders == {"Jürgen": JUERGEN, "Sam": "me"}
    rows = store.rows(JUERGEN)
    assert brief(rows)[1:] == [
        (JUERGEN, "Jürgen", 0, utc("2024-03-12 13:06"), "text", "Hallo! Wie geht's?"),
        (None, None, 1, utc("2024-03-12 13:08"), "text", "Gut, danke"),
        (JUERGEN, "Jürgen", 0, utc("2024-03-15 07:00"), "unknown", None),
        (JUERGEN, "Jürgen", 0, utc("2024-03-15 07:01"), "image", None),
        (JUERGEN, "Jürgen", 0, utc("2024-03-15 07:02"), "text", None),
    ]
    assert rows[0]["kind"] == "system" and rows[0]["content"].startswith("Nachrichten und Anrufe")
    assert (rows[4]["filename"], rows[4]["caption"]) == (
        "IMG-20240315-WA0003.jpg",
        "Schönes Wetter heute",
    )
    assert rows[5]["deleted"] == 1


def test_brazilian_portuguese_export(store: Store) -> None:
    store.import_(FIXTURES / "android_pt_br.txt", chat="Maria", timezone="America/Sao_Paulo")
    rows = store.rows(MARIA)
    assert brief(rows)[1:] == [
        (MARIA, "Maria", 0, utc("2024-03-12 17:06"), "text", "Oi, tudo bem?"),
        (None, None, 1, utc("2024-03-12 17:07"), "text", "Tudo ótimo! E você?"),
        (MARIA, "Maria", 0, utc("2024-03-20 22:45"), "unknown", None),
        (MARIA, "Maria", 0, utc("2024-03-20 22:46"), "text", None),
    ]
    assert rows[0]["kind"] == "system" and rows[4]["deleted"] == 1


def test_group_export_with_system_lines(store: Store, tmp_path: Path) -> None:
    # The chat is found by the name in the phone's file name.
    named = tmp_path / "WhatsApp Chat with Hiking Club.txt"
    shutil.copy(FIXTURES / "android_group_en.txt", named)
    report = store.import_(named, timezone="UTC")
    assert report.chat_jid == GROUP
    assert report.senders == {"Alice": ALICE, "Bob": BOB, "Dave": None, "Sam": "me"}
    assert brief(store.rows(GROUP)) == [
        (None, None, 0, utc("2024-02-01 10:00"), "system", ENCRYPTED),
        (None, None, 0, utc("2024-02-01 10:00"), "system", 'Alice created group "Hiking Club"'),
        (None, None, 0, utc("2024-02-01 10:01"), "system", "Alice added Bob"),
        (
            ALICE,
            "Alice",
            0,
            utc("2024-02-01 10:02"),
            "text",
            "Welcome! Trip on the 17th: bring boots",
        ),
        (BOB, "Bob", 0, utc("2024-02-01 10:03"), "text", "👍"),
        (None, "Dave", 0, utc("2024-02-01 10:03"), "text", "who has the map?"),
        (None, None, 1, utc("2024-02-01 10:04"), "text", "I do"),
        (
            None,
            None,
            0,
            utc("2024-02-14 18:20"),
            "system",
            'Alice changed the subject from "Hiking Club" to "Hiking Club 2024"',
        ),
        (None, None, 0, utc("2024-02-14 18:21"), "system", "Dave left"),
    ]


def test_zip_with_two_images_and_a_voice_note(store: Store, tmp_path: Path) -> None:
    bundle = make_zip(tmp_path / "WhatsApp Chat with Alice.zip")
    # Every date is 01/04: day-first or month-first cannot be told, so the caller says.
    report = store.import_(bundle, timezone="UTC", date_order="dmy")
    assert (report.imported, report.media_linked) == (4, 3)
    rows = store.rows(ALICE)
    assert [(r["kind"], r["filename"], r["caption"]) for r in rows] == [
        ("image", "IMG-20240401-WA0001.jpg", "The view from the top"),
        ("image", "IMG-20240401-WA0002.jpg", None),
        ("voice", "PTT-20240401-WA0003.opus", None),
        ("text", None, None),
    ]
    assert rows[3]["content"] == "Wow!" and rows[3]["is_from_me"] == 1
    media_dir = (store.root / "media").resolve()
    for r in rows[:3]:
        media = json.loads(r["media_json"])
        local = Path(media["local_path"])
        assert local.parent == media_dir / "imports" / "15551110001_s.whatsapp.net"
        assert local.name == r["filename"] and local.stat().st_size == media["file_size"]
    first = json.loads(rows[0]["media_json"])
    assert Path(first["local_path"]).read_bytes().startswith(b"\x89PNG")
    assert json.loads(rows[2]["media_json"])["mime_type"].startswith("audio/ogg")


def test_malformed_lines_are_reported_with_their_numbers_and_the_rest_imported(
    store: Store,
) -> None:
    report = store.import_(FIXTURES / "malformed.txt", chat=ALICE, timezone="UTC")
    assert report.imported == 2
    assert [(b.line, b.reason.split(":")[0]) for b in report.bad_lines] == [
        (2, "bad date/time"),
        (3, "bad date/time"),
    ]
    assert [r["content"] for r in store.rows(ALICE)] == ["first", "last"]
    integrity_ok(store.wconn)


def test_ambiguous_dates_need_a_date_order() -> None:
    text = "01/02/2024, 10:00 - A: x\n03/04/2024, 10:00 - A: y\n"
    # Both readings run forward in time: the file cannot tell, so the caller must.
    with pytest.raises(DateOrderUnknown, match="date_order"):
        parse_export(text)
    assert parse_export(text, date_order="mdy").messages[1].local_time == datetime(2024, 3, 4, 10)


def test_times_follow_daylight_saving_changes_of_the_given_zone() -> None:
    from zoneinfo import ZoneInfo

    text = (
        "30/03/2024, 12:00 - A: before the switch\n"
        "31/03/2024, 01:30 - A: last hour of winter time\n"
        "31/03/2024, 03:30 - A: first hour of summer time\n"
        "27/10/2024, 12:00 - A: back to winter time\n"
    )
    got = [m.timestamp_ms for m in parse_export(text, tz=ZoneInfo("Europe/Berlin")).messages]
    assert got == [
        utc("2024-03-30 11:00"),
        utc("2024-03-31 00:30"),
        utc("2024-03-31 01:30"),
        utc("2024-10-27 11:00"),
    ]


def test_push_names_identify_the_peer_and_the_account(store: Store, tmp_path: Path) -> None:
    from store.models import ContactRecord

    # The exporting phone had Alice under her push name, and shows the account's own push name.
    store.writer.upsert_contacts([ContactRecord(jid=ALICE, push_name="Ali 🌸")])
    export = tmp_path / "push.txt"
    export.write_text(
        "13/03/2024, 09:00 - Ali 🌸: hi\n13/03/2024, 09:01 - Sam: hello\n", encoding="utf-8"
    )
    report = store.import_(export, chat=ALICE, timezone="UTC")
    assert report.senders == {"Ali 🌸": ALICE, "Sam": "me"}


def test_two_unknown_names_in_a_one_to_one_chat_ask_for_my_name(
    store: Store, tmp_path: Path
) -> None:
    from store.errors import InvalidArgument

    export = tmp_path / "strangers.txt"
    export.write_text("13/03/2024, 09:00 - X: hi\n13/03/2024, 09:01 - Y: hello\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match="my_name"):
        store.import_(export, chat=BOB, timezone="UTC")
    assert store.import_(export, chat=BOB, timezone="UTC", my_name="Y").senders == {
        "X": BOB,
        "Y": "me",
    }


def test_ios_zip_with_chat_txt_and_media_at_the_top_level(store: Store, tmp_path: Path) -> None:
    import zipfile

    from tests.store.chat_export.conftest import tiny_png

    bundle = tmp_path / "WhatsApp Chat - Alice.zip"
    lrm = "\u200e"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr(
            "_chat.txt",
            "\ufeff[25/12/2023, 09:15:30] Alice: Look!\n"
            f"{lrm}[25/12/2023, 09:16:01] Alice: "
            f"{lrm}<attached: 00000002-PHOTO-2023-12-25-09-16-01.jpg>\n"
            f"{lrm}[25/12/2023, 09:16:40] Alice: "
            f"{lrm}<attached: 00000003-AUDIO-2023-12-25-09-16-40.opus>\n",
        )
        zf.writestr("00000002-PHOTO-2023-12-25-09-16-01.jpg", tiny_png((1, 2, 3)))
        zf.writestr("00000003-AUDIO-2023-12-25-09-16-40.opus", b"OggS" + b"\x00" * 40)
    report = store.import_(bundle, timezone="UTC")
    assert (report.chat_jid, report.format, report.media_linked) == (ALICE, "ios", 2)
    rows = store.rows(ALICE)
    assert [(r["kind"], r["filename"]) for r in rows] == [
        ("text", None),
        ("image", "00000002-PHOTO-2023-12-25-09-16-01.jpg"),
        ("voice", "00000003-AUDIO-2023-12-25-09-16-40.opus"),
    ]
    assert rows[0]["content"] == "Look!"  # the byte-order mark is not part of the text
    assert all(json.loads(r["media_json"])["local_path"] for r in rows[1:])
