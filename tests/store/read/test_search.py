from __future__ import annotations

import pytest

from store.errors import InvalidArgument
from store.models import HistoryBatch
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import ALICE, BOB, GROUP, at, msg


@pytest.fixture
def corpus(writer: StoreWriter) -> None:
    writer.ingest_history(
        HistoryBatch(
            messages=[
                msg("p1", ALICE, 1, content="pizza tonight?"),
                msg("p2", ALICE, 2, content="pizza pizza pizza, the best pizza"),
                msg("p3", GROUP, 3, content="who wants pizza", sender=BOB),
                msg("c1", ALICE, 4, content="Meet at the café at noon"),
                msg("d1", GROUP, 5, content="don't forget the foo-bar meeting", sender=BOB),
                msg("x1", ALICE, 6, content=None, caption="pizzeria photo"),
            ]
        )
    )


def ids(page) -> list[str]:
    return [h.message.id for h in page.items]


def test_search_ranks_by_relevance_and_marks_the_snippet(corpus, reader: StoreReader):
    page = reader.search_messages("pizza")
    assert ids(page)[0] == "p2"
    assert set(ids(page)) == {"p1", "p2", "p3"}
    assert "[pizza]" in page.items[0].snippet
    assert page.items[0].rank <= page.items[-1].rank


def test_search_filters_by_chat_sender_and_time(corpus, reader: StoreReader):
    assert set(ids(reader.search_messages("pizza", chat_jid=GROUP))) == {"p3"}
    assert set(ids(reader.search_messages("pizza", sender=BOB))) == {"p3"}
    assert set(ids(reader.search_messages("pizza", after=at(1.5), before=at(2.5)))) == {"p2"}
    assert set(ids(reader.search_messages("pizza", chat_jid="+1 555 111 0001"))) == {"p1", "p2"}


def test_a_trailing_star_is_a_prefix_search_and_captions_are_searched(corpus, reader):
    assert set(ids(reader.search_messages("pizz*"))) == {"p1", "p2", "p3", "x1"}


def test_search_ignores_diacritics(corpus, reader: StoreReader):
    assert ids(reader.search_messages("cafe")) == ["c1"]
    assert ids(reader.search_messages("CAFÉ")) == ["c1"]


@pytest.mark.parametrize(
    "query",
    [
        'hello "world',
        "AND OR",
        "foo-bar",
        "don't",
        "NOT",
        "pizza)",
        "(",
        "col:val",
        "^x",
        "🍕 pizza",
        "a" * 10_000,
        "pizza " * 2000,
        "NEAR(a b)",
        "*",
        "x*y",
        '"',
    ],
)
def test_nasty_queries_never_raise_sqlite_errors(corpus, reader: StoreReader, query: str):
    try:
        reader.search_messages(query)
    except InvalidArgument:
        pass


def test_punctuation_words_match_as_phrases(corpus, reader: StoreReader):
    assert ids(reader.search_messages("foo-bar")) == ["d1"]
    assert ids(reader.search_messages("don't")) == ["d1"]


@pytest.mark.parametrize("query", ["", "   ", "?!", "🍕", "***", '""'])
def test_an_empty_or_punctuation_query_is_an_invalid_argument(corpus, reader, query):
    with pytest.raises(InvalidArgument, match="list_messages"):
        reader.search_messages(query)


def test_search_pages_have_no_duplicates_or_gaps(writer: StoreWriter, reader: StoreReader):
    writer.ingest_history(
        HistoryBatch(
            messages=[msg(f"m{i}", ALICE, i, content="word " * (1 + i % 5)) for i in range(47)]
        )
    )
    seen: list[str] = []
    cursor = None
    while True:
        page = reader.search_messages("word", limit=10, cursor=cursor)
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"m{i}" for i in range(47))
    assert len(seen) == len(set(seen))


def test_a_search_cursor_from_another_query_is_rejected(corpus, reader: StoreReader):
    cursor = reader.search_messages("pizza", limit=1).next_cursor
    assert cursor
    with pytest.raises(InvalidArgument, match="cursor"):
        reader.search_messages("cafe", cursor=cursor)


def test_one_letter_prefix_searches_are_refused_with_guidance() -> None:
    from store.errors import InvalidArgument
    from store.fts import build_match

    with pytest.raises(InvalidArgument, match="at least 2 letters"):
        build_match("t*")
    assert build_match("th*") == '"th"*'
