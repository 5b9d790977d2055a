"""Every statement behind the hot tools is served by an index, and no listing uses OFFSET.

Complements tests/store/read/test_query_plans.py (full scans of messages, sorts in listings) with
the paths the performance work added or relies on: both search orders and their probe and snippet
queries, name lookups for a page, and filtered searches.
"""

from __future__ import annotations

import re

import pytest

import store.reader
from store import coverage, live
from store.models import ChatRecord, ContactRecord, HistoryBatch
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import BOB, msg
from tests.store.read.test_query_plans import plans

_SCAN = re.compile(r"\bSCAN (messages|m|contacts|ct|chats|c)\b(?! USING (COVERING )?INDEX)")
CHAT = "15553000001@s.whatsapp.net"
N_CHATS = 400


@pytest.fixture
def filled(writer: StoreWriter) -> None:
    """Enough chats and contacts that a scan of them would be a real cost. No ANALYZE: nothing
    in the product runs it, so these are the plans users get."""
    chats = [f"1555300{i:04d}@s.whatsapp.net" for i in range(N_CHATS)]
    writer.ingest_history(
        HistoryBatch(
            chats=[ChatRecord(jid=j) for j in chats[::2]],
            contacts=[ContactRecord(jid=j, push_name=f"Person {i}") for i, j in enumerate(chats)],
            messages=[
                msg(
                    f"m{i}",
                    chats[i % N_CHATS],
                    i,
                    sender=BOB if i % 3 else None,
                    content=f"word{i % 13} pizza",
                )
                for i in range(3000)
            ],
        )
    )


@pytest.mark.parametrize(
    "name, call",
    [
        ("search, recent order", lambda r: r.search_messages("pizza", limit=20)),
        (
            "search, recent order page 2",
            lambda r: r.search_messages(
                "pizza", cursor=r.search_messages("pizza", limit=20).next_cursor
            ),
        ),
        ("search, bm25 order", lambda r: r.search_messages("word3 pizza", limit=20)),
        (
            "search, bm25 order page 2",
            lambda r: r.search_messages(
                "word3", cursor=r.search_messages("word3", limit=20).next_cursor
            ),
        ),
        ("search, prefix", lambda r: r.search_messages("wor*", limit=20)),
        ("search by sender", lambda r: r.search_messages("pizza", sender=BOB)),
        ("search in chat", lambda r: r.search_messages("word1", chat_jid=CHAT)),
        ("list_chats", lambda r: r.list_chats(limit=20)),
        (
            "list_messages chat page 2",
            lambda r: r.list_messages(
                chat_jid=CHAT, cursor=r.list_messages(chat_jid=CHAT, limit=10).next_cursor
            ),
        ),
        ("get_chat", lambda r: r.get_chat(CHAT)),
        # issue 16: coverage and wait_for_messages
        ("coverage", lambda r: r.with_connection(lambda c: coverage.coverage_now(c, CHAT))),
        (
            "wait_for_messages",
            lambda r: r.with_connection(lambda c: live.new_inbound(c, after_seq=10, floor_ms=0)),
        ),
        (
            "wait_for_messages, filtered",
            lambda r: r.with_connection(
                lambda c: live.new_inbound(
                    c,
                    after_seq=10,
                    floor_ms=0,
                    chats=[CHAT],
                    unread_only=True,
                    mention_of=live.account_jids(c) or [BOB],
                )
            ),
        ),
    ],
)
def test_hot_statements_never_scan_a_table_or_use_offset(
    filled: None,
    rconn,
    reader: StoreReader,
    name: str,
    call,
) -> None:
    statements = plans(rconn, lambda: call(reader))
    assert statements, name
    for sql, plan in statements:
        assert not _SCAN.search(plan), f"{name}: table scan\n{sql[-300:]}\n{plan}"
        assert " OFFSET " not in sql.upper(), f"{name}: OFFSET paging\n{sql}"


def test_the_fixture_exercises_both_search_orders(filled: None, reader: StoreReader) -> None:
    assert reader.search_messages("pizza").items[0].rank == 0.0  # 2,000 hits > RANK_CAP
    assert store.reader.RANK_CAP < 2000
    assert reader.search_messages("word3").items[0].rank < 0  # ~150 hits: bm25
