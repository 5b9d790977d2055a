from __future__ import annotations

import sqlite3

import pytest

from store.errors import InvalidArgument
from store.models import (
    ChatRecord,
    ContactRecord,
    DeleteRecord,
    EditRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    ReactionRecord,
    ReceiptKind,
    ReceiptRecord,
)
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import ALICE, ALICE_LID, BOB, GROUP, ME, at, msg


def one(conn: sqlite3.Connection, sql: str, *params: object) -> tuple:
    return conn.execute(sql, params).fetchone()


def test_the_same_message_ingested_twice_is_one_row(writer: StoreWriter, wconn: sqlite3.Connection):
    assert writer.ingest_message(msg("a")) is True
    assert writer.ingest_message(msg("a")) is False
    assert one(wconn, "SELECT count(*) FROM messages")[0] == 1


def test_a_history_batch_ingested_twice_leaves_the_same_counts(
    writer: StoreWriter, reader: StoreReader
):
    batch = HistoryBatch(
        chats=[ChatRecord(jid=ALICE, unread_count=2), ChatRecord(jid=GROUP, name="Team")],
        contacts=[ContactRecord(jid=ALICE, push_name="Alice")],
        messages=[msg(f"m{i}", ALICE if i % 2 else GROUP, i, sender=BOB) for i in range(50)],
    )
    assert writer.ingest_history(batch) == 50
    first = reader.counts()
    assert writer.ingest_history(batch) == 0
    assert reader.counts() == first
    assert first.messages == 50 and first.chats == 2
    assert reader.get_chat(ALICE).unread_count == 2


def test_reingesting_does_not_change_content(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a", content="original"))
    writer.ingest_message(msg("a", content="changed"))
    assert reader.get_message(ALICE, "a").text == "original"


def test_a_full_message_replaces_a_placeholder_in_place(
    writer: StoreWriter, wconn: sqlite3.Connection, reader: StoreReader
):
    writer.ingest_message(msg("a", content=None, is_placeholder=True))
    seq = one(wconn, "SELECT seq FROM messages")[0]
    assert writer.ingest_message(msg("a", content="decrypted pizza")) is False
    row = one(wconn, "SELECT seq, is_placeholder, content FROM messages")
    assert row == (seq, 0, "decrypted pizza")
    assert [h.message.id for h in reader.search_messages("pizza").items] == ["a"]


def test_a_placeholder_never_overwrites_a_full_message(
    writer: StoreWriter, wconn: sqlite3.Connection
):
    writer.ingest_history(HistoryBatch(messages=[msg("a", content="real")]))
    writer.ingest_history(HistoryBatch(messages=[msg("a", content=None, is_placeholder=True)]))
    assert one(wconn, "SELECT content, is_placeholder FROM messages") == ("real", 0)


def test_history_upgrades_a_placeholder_and_keeps_an_earlier_edit(
    writer: StoreWriter, reader: StoreReader
):
    writer.ingest_message(msg("a", content=None, is_placeholder=True))
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="fixed", timestamp=at(5)))
    writer.ingest_history(HistoryBatch(messages=[msg("a", content="typo")]))
    m = reader.get_message(ALICE, "a")
    assert (m.text, m.edited) == ("fixed", True)


def test_an_edit_after_the_message_sets_content_and_flag(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a", content="helo"))
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="hello", timestamp=at(1)))
    m = reader.get_message(ALICE, "a")
    assert (m.text, m.edited) == ("hello", True)
    assert reader.search_messages("hello").items[0].message.id == "a"
    assert reader.search_messages("helo").items == []


def test_an_edit_before_the_message_is_applied_when_it_arrives(
    writer: StoreWriter, reader: StoreReader
):
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="v2", timestamp=at(2)))
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="v1", timestamp=at(1)))
    writer.ingest_message(msg("a", content="v0"))
    m = reader.get_message(ALICE, "a")
    assert (m.text, m.edited) == ("v2", True)


def test_the_newest_edit_wins_whatever_the_arrival_order(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a", content="v0"))
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="v2", timestamp=at(2)))
    writer.apply_edit(EditRecord(chat_jid=ALICE, message_id="a", content="v1", timestamp=at(1)))
    assert reader.get_message(ALICE, "a").text == "v2"


def test_a_delete_before_or_after_the_message_keeps_the_row_flagged(
    writer: StoreWriter, reader: StoreReader
):
    writer.ingest_message(msg("a"))
    writer.apply_delete(DeleteRecord(chat_jid=ALICE, message_id="a", timestamp=at(1)))
    writer.apply_delete(DeleteRecord(chat_jid=ALICE, message_id="b", timestamp=at(1)))
    writer.ingest_history(HistoryBatch(messages=[msg("b", minutes=0.5)]))
    assert reader.get_message(ALICE, "a").deleted
    assert reader.get_message(ALICE, "b").deleted
    assert reader.get_chat(ALICE).last_message_preview == "[deleted]"


def test_reactions_are_added_replaced_and_removed(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a"))
    writer.upsert_contacts([ContactRecord(jid=BOB, saved_name="Bob")])

    def react(emoji: str, minutes: float) -> None:
        writer.apply_reaction(
            ReactionRecord(
                chat_jid=ALICE, message_id="a", sender=BOB, emoji=emoji, timestamp=at(minutes)
            )
        )

    react("👍", 1)
    assert [(r.emoji, r.sender_name) for r in reader.get_message(ALICE, "a").reactions] == [
        ("👍", "Bob")
    ]
    react("❤️", 2)
    react("😂", 1.5)  # older: loses
    assert [r.emoji for r in reader.get_message(ALICE, "a").reactions] == ["❤️"]
    react("", 3)
    assert reader.get_message(ALICE, "a").reactions == []
    react("👍", 2.5)  # older than the removal: stays removed
    assert reader.get_message(ALICE, "a").reactions == []


def test_a_reaction_to_an_unknown_message_is_kept_for_later(
    writer: StoreWriter, reader: StoreReader
):
    writer.apply_reaction(
        ReactionRecord(chat_jid=ALICE, message_id="later", sender=BOB, emoji="🎉", timestamp=at(1))
    )
    writer.ingest_message(msg("later"))
    assert [r.emoji for r in reader.get_message(ALICE, "later").reactions] == ["🎉"]


def test_unread_counts_follow_live_messages(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("a", minutes=1))
    writer.ingest_message(msg("b", minutes=2))
    writer.ingest_message(msg("b", minutes=2))  # duplicate: not counted
    writer.ingest_message(msg("old", minutes=0), live=False)
    assert reader.get_chat(ALICE).unread_count == 2
    writer.ingest_message(msg("mine", minutes=3, is_from_me=True, sender=ME))
    assert reader.get_chat(ALICE).unread_count == 0
    writer.ingest_message(msg("c", minutes=4))
    writer.mark_chat_read(ALICE)
    assert reader.get_chat(ALICE).unread_count == 0


def test_receipts_raise_status_and_never_downgrade(writer: StoreWriter, wconn: sqlite3.Connection):
    writer.record_sent(msg("out", is_from_me=True, sender=ME))
    writer.ingest_message(msg("in"))

    def status(mid: str) -> str | None:
        return one(wconn, "SELECT status FROM messages WHERE id = ?", mid)[0]

    assert status("out") == "sent"
    for kind in (ReceiptKind.read, ReceiptKind.delivered):
        writer.apply_receipt(
            ReceiptRecord(chat_jid=ALICE, message_ids=["out", "in"], kind=kind, timestamp=at(1))
        )
    assert status("out") == "read"
    assert status("in") is None
    writer.apply_receipt(
        ReceiptRecord(chat_jid=ALICE, message_ids=["out"], kind=ReceiptKind.played, timestamp=at(2))
    )
    assert status("out") == "played"


def test_record_sent_is_idempotent(writer: StoreWriter, reader: StoreReader):
    writer.record_sent(msg("out", content="hi"))
    writer.record_sent(msg("out", content="hi"))
    page = reader.list_messages(chat_jid=ALICE)
    assert len(page.items) == 1 and page.items[0].is_from_me and page.items[0].sender is None


def test_chat_last_message_tracks_the_newest_by_timestamp(writer: StoreWriter, reader: StoreReader):
    writer.ingest_message(msg("new", minutes=10, content="newest"))
    writer.ingest_message(msg("old", minutes=1, content="older"), live=False)
    chat = reader.get_chat(ALICE)
    assert chat.last_message_at == at(10)
    assert chat.last_message_preview == "newest"


def test_a_contact_lid_merges_chats_messages_and_reactions(
    writer: StoreWriter, reader: StoreReader, wconn: sqlite3.Connection
):
    writer.ingest_message(msg("x", ALICE_LID, 1, content="via lid"))
    writer.ingest_message(msg("dup", ALICE_LID, 2))
    writer.ingest_message(msg("dup", ALICE, 2))
    writer.ingest_message(msg("g", GROUP, 3, sender=ALICE_LID))
    writer.apply_reaction(
        ReactionRecord(
            chat_jid=GROUP, message_id="g", sender=ALICE_LID, emoji="👍", timestamp=at(4)
        )
    )
    writer.upsert_contacts([ContactRecord(jid=ALICE_LID, push_name="Ally")])
    writer.upsert_contacts([ContactRecord(jid=ALICE, lid=ALICE_LID, saved_name="Alice")])

    assert {r[0] for r in wconn.execute("SELECT jid FROM chats")} == {ALICE, GROUP}
    assert one(wconn, "SELECT count(*) FROM messages WHERE chat_jid = ?", ALICE)[0] == 2
    assert one(wconn, "SELECT count(*) FROM messages WHERE chat_jid = ?", ALICE_LID)[0] == 0
    g = reader.get_message(GROUP, "g")
    assert (g.sender, g.sender_name, g.sender_phone) == (ALICE, "Alice", "+15551110001")
    assert [r.sender for r in g.reactions] == [ALICE]
    contact = reader.search_contacts("ally").items[0]
    assert (contact.jid, contact.push_name, contact.lid) == (ALICE, "Ally", ALICE_LID)
    assert reader.get_chat(ALICE).unread_count == 3
    # Once known, the mapping applies to new writes and to reader lookups by LID.
    writer.ingest_message(msg("y", ALICE_LID, 5))
    assert writer.resolve_jid(ALICE_LID) == ALICE
    assert reader.get_message(ALICE_LID, "y").chat_jid == ALICE


def test_link_lid_survives_a_writer_restart(db_path, wconn):
    StoreWriter(wconn).link_lid(ALICE_LID, ALICE)
    assert StoreWriter(wconn).resolve_jid(ALICE_LID + " ") == ALICE


def test_contact_upserts_never_blank_stored_names(writer: StoreWriter, reader: StoreReader):
    writer.upsert_contacts([ContactRecord(jid=BOB, saved_name="Bob", push_name="bobby")])
    writer.upsert_contacts(
        [ContactRecord(jid=BOB, saved_name="", push_name=None, business_name="B Inc")]
    )
    c = reader.search_contacts("bob").items[0]
    assert (c.saved_name, c.push_name, c.business_name, c.phone) == (
        "Bob",
        "bobby",
        "B Inc",
        "+15551110002",
    )
    assert c.is_saved


def test_groups_store_name_topic_and_replace_participants(writer: StoreWriter, reader: StoreReader):
    writer.upsert_contacts([ContactRecord(jid=ALICE, saved_name="Alice")])
    parts = [
        GroupParticipantRecord(jid=ALICE, is_super_admin=True),
        GroupParticipantRecord(jid=BOB),
    ]
    writer.upsert_group(GroupRecord(jid=GROUP, name="Team", topic="Plans", participants=parts))
    writer.upsert_group(GroupRecord(jid=GROUP, participants=parts[:1]))
    chat = reader.get_chat(GROUP)
    assert (chat.name, chat.topic, chat.is_group) == ("Team", "Plans", True)
    assert chat.participants is not None
    assert [(p.jid, p.name, p.is_admin) for p in chat.participants] == [(ALICE, "Alice", True)]


def test_media_and_mentions_are_stored(writer: StoreWriter, reader: StoreReader, wconn):
    media = MediaInfo(mime_type="image/jpeg", file_size=123, media_key="a2V5")
    writer.ingest_message(
        msg(
            "p",
            kind=MessageKind.image,
            content=None,
            caption="beach",
            media=media,
            mentions=["15551110002:3@s.whatsapp.net"],
        )
    )
    assert one(wconn, "SELECT mime_type, file_size, mentions FROM messages") == (
        "image/jpeg",
        123,
        f'["{BOB}"]',
    )
    m = reader.get_message(ALICE, "p")
    assert m.media == media and m.kind is MessageKind.image
    assert reader.get_chat(ALICE).last_message_preview == "[image] beach"


def test_kv_round_trips(writer: StoreWriter):
    assert writer.get_kv("k") is None
    writer.set_kv("k", "1")
    writer.set_kv("k", "2")
    assert writer.get_kv("k") == "2"


def test_a_failed_batch_is_rolled_back_entirely(writer: StoreWriter, reader: StoreReader):
    bad = HistoryBatch(messages=[msg("ok"), msg("bad", chat="not a jid")])
    with pytest.raises(InvalidArgument, match="not a jid"):
        writer.ingest_history(bad)
    # The good message before the bad one is gone too, and the writer still works.
    assert reader.counts().messages == 0
    assert writer.ingest_history(HistoryBatch(messages=[msg("ok")])) == 1
    assert reader.counts().messages == 1
