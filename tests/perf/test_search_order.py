"""Search ranks by bm25 up to RANK_CAP hits and pages newest-stored first beyond it."""

from __future__ import annotations

import pytest

import store.read.search
from store.errors import InvalidArgument
from store.models import HistoryBatch
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import ALICE, BOB, msg


@pytest.fixture
def twelve_llamas(writer: StoreWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store.read.search, "RANK_CAP", 5)
    writer.ingest_history(
        HistoryBatch(
            messages=[
                msg(f"l{i}", ALICE if i % 2 else BOB, i, content="llama " + "filler " * i)
                for i in range(12)
            ]
            + [msg(f"r{i}", ALICE, 100 + i, content=f"rare yak {'hay ' * i}") for i in range(3)]
        )
    )


def test_many_hits_page_newest_stored_first_without_gaps_or_overlap(
    twelve_llamas: None, reader: StoreReader
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = reader.search_messages("llama", limit=5, cursor=cursor)
        seen += [h.message.id for h in page.items]
        assert all(h.rank == 0.0 and "[llama]" in h.snippet for h in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"l{i}" for i in reversed(range(12))]


def test_few_hits_are_ranked_by_bm25(twelve_llamas: None, reader: StoreReader) -> None:
    page = reader.search_messages("yak", limit=2)
    ranks = [h.rank for h in page.items]
    assert ranks == sorted(ranks) and ranks[0] < 0
    # The shortest message is the most relevant one for bm25.
    assert page.items[0].message.id == "r0"
    rest = reader.search_messages("yak", limit=2, cursor=page.next_cursor)
    assert [h.message.id for h in rest.items] == ["r2"] and rest.next_cursor is None


def test_filters_apply_in_recent_order(twelve_llamas: None, reader: StoreReader) -> None:
    page = reader.search_messages("llama", chat_jid=ALICE, limit=50)
    assert [h.message.id for h in page.items] == [f"l{i}" for i in (11, 9, 7, 5, 3, 1)]


def test_a_recent_order_cursor_only_continues_its_own_search(
    twelve_llamas: None, reader: StoreReader
) -> None:
    cursor = reader.search_messages("llama", limit=5).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidArgument):
        reader.search_messages("yak", cursor=cursor)
    with pytest.raises(InvalidArgument):
        reader.search_messages("llama", chat_jid=ALICE, cursor=cursor)
