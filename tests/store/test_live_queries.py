"""The queries behind wait_for_messages, on a real store file."""

from __future__ import annotations

import sqlite3

from store import live
from store.models import ContactRecord, HistoryBatch, to_ms
from store.writer import StoreWriter
from tests.store.conftest import ALICE, BOB, GROUP, ME, at, msg

ME_LID = "55555555555555@lid"


def test_new_inbound_follows_arrival_order_and_skips_old_history_and_my_own(
    writer: StoreWriter, rconn: sqlite3.Connection
) -> None:
    start = live.last_seq(rconn)
    floor = to_ms(at(0))
    writer.ingest_message(msg("a1", ALICE, 10))
    writer.ingest_message(msg("mine", ALICE, 11, is_from_me=True))
    # A history chunk lands after the cursor but holds messages from before listening began.
    writer.ingest_history(HistoryBatch(messages=[msg("old", BOB, -600)]))
    # Delivered late (the phone was offline), stamped before a1: still new, in arrival order.
    writer.ingest_message(msg("late", BOB, 5))
    got = live.new_inbound(rconn, after_seq=start, floor_ms=floor)
    assert got.keys == [(ALICE, "a1"), (BOB, "late")] and not got.more
    assert got.last_seq == live.last_seq(rconn)
    again = live.new_inbound(rconn, after_seq=got.last_seq, floor_ms=floor)
    assert again.keys == [] and again.last_seq == got.last_seq


def test_limit_leaves_the_rest_for_the_next_call(
    writer: StoreWriter, rconn: sqlite3.Connection
) -> None:
    start = live.last_seq(rconn)
    for i in range(5):
        writer.ingest_message(msg(f"m{i}", ALICE, i))
    first = live.new_inbound(rconn, after_seq=start, floor_ms=0, limit=3)
    assert [k[1] for k in first.keys] == ["m0", "m1", "m2"] and first.more
    rest = live.new_inbound(rconn, after_seq=first.last_seq, floor_ms=0, limit=3)
    assert [k[1] for k in rest.keys] == ["m3", "m4"] and not rest.more


def test_filters_chats_unread_and_mentions(writer: StoreWriter, rconn: sqlite3.Connection) -> None:
    writer.set_kv("account_jid", ME)
    writer.upsert_contacts([ContactRecord(jid=ME, lid=ME_LID)])
    start = live.last_seq(rconn)
    writer.ingest_message(msg("a1", ALICE, 1))
    writer.ingest_message(msg("b1", BOB, 2))
    writer.ingest_message(msg("g1", GROUP, 3, sender=ALICE, mentions=[ME_LID]))
    writer.ingest_message(msg("g2", GROUP, 4, sender=ALICE, mentions=[BOB]))
    only_bob = live.new_inbound(rconn, after_seq=start, floor_ms=0, chats=[BOB])
    assert only_bob.keys == [(BOB, "b1")]
    # The cursor moves past what the filter skipped.
    assert only_bob.last_seq == live.last_seq(rconn)

    me = live.account_jids(rconn)
    assert me == [ME, ME_LID]
    mentions = live.new_inbound(rconn, after_seq=start, floor_ms=0, mention_of=me)
    assert mentions.keys == [(GROUP, "g1")]

    writer.set_unread_count(ALICE, 0)
    writer.set_unread_count(BOB, 0)
    unread = live.new_inbound(rconn, after_seq=start, floor_ms=0, unread_only=True)
    assert {k[0] for k in unread.keys} == {GROUP}


def test_a_cursor_from_a_replaced_store_starts_at_its_end(
    writer: StoreWriter, rconn: sqlite3.Connection
) -> None:
    writer.ingest_message(msg("a1", ALICE, 1))
    top = live.last_seq(rconn)
    got = live.new_inbound(rconn, after_seq=top + 1000, floor_ms=0)
    assert got.keys == [] and got.last_seq == top
    writer.ingest_message(msg("a2", ALICE, 2))
    assert live.new_inbound(rconn, after_seq=got.last_seq, floor_ms=0).keys == [(ALICE, "a2")]


def test_saved_contacts_are_told_apart_from_strangers(
    writer: StoreWriter, rconn: sqlite3.Connection
) -> None:
    writer.upsert_contacts(
        [ContactRecord(jid=ALICE, saved_name="Alice"), ContactRecord(jid=BOB, push_name="Bob")]
    )
    assert live.is_saved_contact(rconn, ALICE)
    assert not live.is_saved_contact(rconn, BOB)
    assert not live.is_saved_contact(rconn, "15550000000@s.whatsapp.net")
