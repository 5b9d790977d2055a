from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from store.errors import Ambiguous, InvalidArgument, NotFound
from store.models import (
    ChatRecord,
    ContactRecord,
    GroupRecord,
    HistoryBatch,
    ReactionRecord,
)
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import ALICE, BOB, CAROL, GROUP, ME, at, msg


def collect(fetch: Callable[[str | None], Any], key: Callable[[Any], str]) -> list[str]:
    out: list[str] = []
    cursor = None
    for _ in range(1000):
        page = fetch(cursor)
        out += [key(x) for x in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return out
    raise AssertionError("pagination did not end")


@pytest.fixture
def many_chats(writer: StoreWriter) -> list[str]:
    chats = [f"1555200{i:04d}@s.whatsapp.net" for i in range(37)]
    messages = [msg(f"m{i}", jid, minutes=i // 3) for i, jid in enumerate(chats[:30])]  # ties
    writer.ingest_history(HistoryBatch(chats=[ChatRecord(jid=j) for j in chats], messages=messages))
    return chats


def test_list_chats_pages_cover_every_chat_once_newest_first(many_chats, reader: StoreReader):
    got = collect(lambda c: reader.list_chats(limit=4, cursor=c), lambda ch: ch.jid)
    assert len(got) == len(set(got)) == 37
    whole = reader.list_chats(limit=100).items
    assert [c.jid for c in whole] == got
    active = [c.last_message_at for c in whole if c.last_message_at]
    assert active == sorted(active, reverse=True) and len(active) == 30


def test_list_chats_filters_by_kind_unread_and_query(writer: StoreWriter, reader: StoreReader):
    writer.upsert_contacts([ContactRecord(jid=ALICE, saved_name="Alice Zoë")])
    writer.upsert_group(GroupRecord(jid=GROUP, name="Pizza club"))
    writer.ingest_message(msg("a", ALICE, 1))
    writer.ingest_message(msg("b", BOB, 2, is_from_me=True))
    assert [c.jid for c in reader.list_chats(kind="group").items] == [GROUP]
    assert [c.jid for c in reader.list_chats(unread_only=True).items] == [ALICE]
    assert [c.jid for c in reader.list_chats(query="zoe").items] == [ALICE]
    assert [c.jid for c in reader.list_chats(query="PIZZA").items] == [GROUP]
    assert [c.jid for c in reader.list_chats(query="5551110002").items] == [BOB]
    assert [c.jid for c in reader.list_chats(query="%_x").items] == []
    names = {c.jid: c.name for c in reader.list_chats().items}
    assert names == {ALICE: "Alice Zoë", BOB: "+15551110002", GROUP: "Pizza club"}


def test_list_messages_pages_cover_every_message_once_in_both_orders(
    writer: StoreWriter, reader: StoreReader
):
    writer.ingest_history(HistoryBatch(messages=[msg(f"m{i}", ALICE, i // 4) for i in range(41)]))
    for order in ("newest", "oldest"):
        got = collect(
            lambda c, o=order: reader.list_messages(chat_jid=ALICE, order=o, limit=6, cursor=c),
            lambda m: m.id,
        )
        assert sorted(got) == sorted(f"m{i}" for i in range(41))
        assert len(got) == len(set(got))
    newest = reader.list_messages(chat_jid=ALICE, limit=41).items
    assert newest[0].timestamp >= newest[-1].timestamp


def test_list_messages_filters_by_sender_time_and_substring(writer: StoreWriter, reader):
    writer.ingest_history(
        HistoryBatch(
            messages=[
                msg("g1", GROUP, 1, sender=BOB, content="hello 🍕"),
                msg("g2", GROUP, 2, sender=CAROL, content="50% off"),
                msg("g3", GROUP, 3, sender=BOB, content="bye"),
            ]
        )
    )
    assert [m.id for m in reader.list_messages(sender=BOB, order="oldest").items] == ["g1", "g3"]
    assert [m.id for m in reader.list_messages(after=at(1), before=at(3)).items] == ["g2"]
    assert [m.id for m in reader.list_messages(query="🍕").items] == ["g1"]
    assert [m.id for m in reader.list_messages(query="50%").items] == ["g2"]
    assert [m.id for m in reader.list_messages(query="0% ").items] == ["g2"]
    assert reader.list_messages(query="_").items == []


def test_search_contacts_pages_and_matches_names_phones_and_jids(writer: StoreWriter, reader):
    writer.upsert_contacts(
        [
            ContactRecord(jid=f"4477009{i:05d}@s.whatsapp.net", push_name=f"Person {i % 7}")
            for i in range(23)
        ]
    )
    writer.upsert_contacts([ContactRecord(jid=ALICE, business_name="José's Tacos")])
    got = collect(lambda c: reader.search_contacts("person", limit=5, cursor=c), lambda x: x.jid)
    assert len(got) == len(set(got)) == 23
    assert [c.jid for c in reader.search_contacts("jose").items] == [ALICE]
    assert [c.jid for c in reader.search_contacts("+1 555-111-0001").items] == [ALICE]
    assert [c.jid for c in reader.search_contacts("4477009").items][:1] == [
        "447700900000@s.whatsapp.net"
    ]
    assert (
        len(collect(lambda c: reader.search_contacts("", limit=7, cursor=c), lambda x: x.jid)) == 24
    )


@pytest.mark.parametrize("bad", ["garbage", "", "eyJrIjoieCJ9", "e30", "!!!!", "a" * 5000])
def test_garbage_cursors_are_invalid_arguments(reader: StoreReader, bad: str):
    for call in (
        lambda: reader.list_chats(cursor=bad),
        lambda: reader.list_messages(cursor=bad),
        lambda: reader.search_messages("x", cursor=bad),
        lambda: reader.search_contacts("x", cursor=bad),
    ):
        with pytest.raises(InvalidArgument):
            call()


def test_a_cursor_is_bound_to_its_filters(writer: StoreWriter, reader: StoreReader):
    writer.ingest_history(HistoryBatch(messages=[msg(f"m{i}", ALICE, i) for i in range(3)]))
    cursor = reader.list_messages(chat_jid=ALICE, limit=1).next_cursor
    with pytest.raises(InvalidArgument):
        reader.list_messages(chat_jid=BOB, cursor=cursor)
    with pytest.raises(InvalidArgument):
        reader.list_chats(cursor=cursor)


def test_limits_out_of_range_are_invalid_arguments(reader: StoreReader):
    with pytest.raises(InvalidArgument, match="limit"):
        reader.list_messages(limit=0)


def test_get_chat_reports_unknown_chats_helpfully(reader: StoreReader):
    with pytest.raises(NotFound, match="list_chats"):
        reader.get_chat(ALICE)
    with pytest.raises(InvalidArgument):
        reader.get_chat("not a jid at all")


def test_get_chat_counts_messages_and_names_the_chat(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a", ALICE, 1, sender_name="Ali (push)"))
    writer.ingest_message(msg("b", ALICE, 2, content="x" * 300))
    chat = reader.get_chat("+1 (555) 111-0001")
    assert chat.message_count == 2 and chat.name == "+15551110001"
    assert chat.last_message_preview is not None and len(chat.last_message_preview) <= 80
    assert reader.get_message(ALICE, "a").sender_name == "Ali (push)"


def test_messages_carry_quotes_reactions_and_names(writer: StoreWriter, reader: StoreReader):
    writer.upsert_contacts(
        [ContactRecord(jid=BOB, saved_name="Bob"), ContactRecord(jid=CAROL, push_name="Carol")]
    )
    writer.ingest_message(msg("q", GROUP, 1, sender=BOB, content="long " * 50))
    writer.ingest_message(msg("r", GROUP, 2, sender=CAROL, content="reply", reply_to_id="q"))
    writer.ingest_message(
        msg("s", GROUP, 3, is_from_me=True, sender=ME, reply_to_id="missing", reply_to_sender=BOB)
    )
    writer.apply_reaction(
        ReactionRecord(chat_jid=GROUP, message_id="r", sender=BOB, emoji="👍", timestamp=at(4))
    )
    page = reader.list_messages(chat_jid=GROUP, order="oldest")
    q, r, s = page.items
    assert (r.sender_name, r.reply_to and r.reply_to.sender_name) == ("Carol", "Bob")
    assert r.reply_to and r.reply_to.quote and len(r.reply_to.quote) <= 100
    assert [(x.emoji, x.sender_name) for x in r.reactions] == [("👍", "Bob")]
    assert s.sender is None and s.is_from_me
    assert s.reply_to is not None and (s.reply_to.quote, s.reply_to.sender) == (None, BOB)
    assert q.chat_name is None  # unnamed group


def test_hidden_direction_characters_are_removed_and_flagged(writer: StoreWriter, reader):
    writer.ingest_message(msg("h", content="pay \u202eevil\u202c now\U000e0041"))
    writer.ingest_message(
        msg(
            "f",
            content="family 👨\u200d👩\u200d👧 flag "
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        )
    )
    h = reader.get_message(ALICE, "h")
    assert (h.text, h.hidden_characters_removed) == ("pay evil now", True)
    assert reader.get_message(ALICE, "f").hidden_characters_removed is False


def test_message_context_returns_neighbours_in_order(writer: StoreWriter, reader: StoreReader):
    writer.ingest_history(HistoryBatch(messages=[msg(f"m{i}", ALICE, i) for i in range(10)]))
    writer.ingest_message(msg("other", BOB, 5))
    ctx = reader.get_message_context(ALICE, "m5", before=2, after=3)
    assert [m.id for m in ctx.before] == ["m3", "m4"]
    assert ctx.target.id == "m5"
    assert [m.id for m in ctx.after] == ["m6", "m7", "m8"]
    with pytest.raises(NotFound, match="list_messages"):
        reader.get_message_context(ALICE, "nope")


@pytest.fixture
def people(writer: StoreWriter) -> None:
    writer.upsert_contacts(
        [
            ContactRecord(jid=ALICE, saved_name="Dr. Smith Dentist"),
            ContactRecord(jid=BOB, saved_name="Mum"),
            ContactRecord(jid=CAROL, push_name="Mummy"),
        ]
    )
    writer.upsert_group(GroupRecord(jid=GROUP, name="Family"))
    writer.upsert_chat(ChatRecord(jid="15551110004@s.whatsapp.net", name="Family Jones"))


def test_resolve_recipient_accepts_jids_phones_and_unique_names(people, reader: StoreReader):
    assert reader.resolve_recipient(ALICE) == (ALICE, "Dr. Smith Dentist")
    assert reader.resolve_recipient("15551110001:12@s.whatsapp.net")[0] == ALICE
    for phone in ("+1 555 111 0001", "+1 (555) 111-0001", "0015551110001", "15551110001"):
        assert reader.resolve_recipient(phone)[0] == ALICE
    assert reader.resolve_recipient("+44 7700 900123") == ("447700900123@s.whatsapp.net", None)
    assert reader.resolve_recipient("dentist") == (ALICE, "Dr. Smith Dentist")
    assert reader.resolve_recipient("mum") == (BOB, "Mum")  # exact beats substring ("Mummy")
    assert reader.resolve_recipient("FAMILY") == (GROUP, "Family")


def test_resolve_recipient_reports_ambiguous_and_unknown_names(people, reader: StoreReader):
    with pytest.raises(Ambiguous) as exc:
        reader.resolve_recipient("fam")
    assert sorted(exc.value.candidates) == [
        "Family (120363000000000001@g.us)",
        "Family Jones (15551110004@s.whatsapp.net)",
    ]
    with pytest.raises(NotFound, match="search_contacts"):
        reader.resolve_recipient("plumber")
    with pytest.raises(InvalidArgument):
        reader.resolve_recipient("  ")


def test_resolve_chat_requires_an_existing_chat(people, writer: StoreWriter, reader):
    assert reader.resolve_chat("family") == GROUP
    with pytest.raises(NotFound):
        reader.resolve_chat("dentist")  # a contact without a chat
    with pytest.raises(NotFound):
        reader.resolve_chat(ALICE)
    writer.ingest_message(msg("a", ALICE))
    assert reader.resolve_chat("dentist") == ALICE
    assert reader.resolve_chat("+15551110001") == ALICE


def test_the_reader_connection_refuses_writes(rconn: sqlite3.Connection, reader: StoreReader):
    with pytest.raises(sqlite3.OperationalError):
        rconn.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
    assert reader.counts().messages == 0


def test_the_reader_sees_writes_committed_after_it_opened(writer: StoreWriter, reader):
    writer.ingest_message(msg("a"))
    assert reader.counts().messages == 1


def test_one_reader_serves_many_threads(writer: StoreWriter, reader: StoreReader):
    from concurrent.futures import ThreadPoolExecutor

    writer.ingest_history(HistoryBatch(messages=[msg(f"m{i}", ALICE, i) for i in range(30)]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: len(reader.list_messages(limit=30).items), range(64)))
    assert results == [30] * 64
