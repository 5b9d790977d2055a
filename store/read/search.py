"""Full-text search over text and captions, ranked, with snippets."""

from __future__ import annotations

from datetime import datetime

from store import cursor as cursors
from store import fts
from store.models import (
    Page,
    SearchHit,
)
from store.read.base import _MSG_COLS, _RECENT_CURSOR_TAG, RANK_CAP, _check_limit, _marks
from store.read.messages import MessageQueries
from store.text import strip_hidden


class SearchQueries(MessageQueries):
    def search_messages(
        self,
        query: str,
        *,
        chat_jid: str | None = None,
        sender: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[SearchHit]:
        """Full-text search with `[`…`]` around the matched words.

        Most relevant first (bm25) when at most RANK_CAP messages match; beyond that, most recently
        stored first, with rank 0.0 (not ranked). bm25 has to score every hit before the first page
        can be known (~1 µs per hit plus a sort: 0.5 s for a word in half a million messages), and
        a word that common carries almost no relevance signal anyway. The order chosen on the
        first page is carried in the cursor, so later pages never mix the two.
        """
        _check_limit(limit)
        match = fts.build_match(query or "")
        where, params = self._message_filters(chat_jid, sender, after, before)
        fp = cursors.fingerprint("search", match, chat_jid, sender, after, before)
        filters = "".join(" AND " + w for w in where)
        base = f"""
            FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
            WHERE messages_fts MATCH ? {filters}"""
        recent = False
        if cursor is not None and cursor.startswith(_RECENT_CURSOR_TAG):
            (seq,) = cursors.decode(cursor[len(_RECENT_CURSOR_TAG) :], "search-recent", fp, (int,))
            recent = True
            base += " AND messages_fts.rowid < ?"
            params += [seq]
        elif cursor is not None:
            score, seq = cursors.decode(cursor, "search", fp, ((float, int), int))
            base += " AND (bm25(messages_fts), m.seq) > (?, ?)"
            params += [float(score), seq]
        else:
            # Counting stops at RANK_CAP + 1 hits, walked in rowid order without scoring.
            counted = base if where else " FROM messages_fts WHERE messages_fts MATCH ?"
            probe = self._one(
                f"SELECT count(*) AS n FROM (SELECT 1 {counted} LIMIT ?)",
                [match, *params, RANK_CAP + 1],
            )
            recent = probe is not None and probe["n"] > RANK_CAP
        # snippet() is left out here: SQLite would compute it for every hit fed to the sort. In
        # recent order bm25() is left out too: its IDF counts every hit of every phrase.
        if recent:
            score, order = "0.0", "messages_fts.rowid DESC"
        else:
            score, order = "bm25(messages_fts)", "score, m.seq"
        rows = self._rows(
            f"SELECT {_MSG_COLS}, {score} AS score {base} ORDER BY {order} LIMIT ?",
            [match, *params, limit + 1],
        )
        page = rows[:limit]
        snips = self._snippets(match, [r["seq"] for r in page])
        messages = self._build_messages(page)
        hits = [
            SearchHit(
                message=msg, snippet=strip_hidden(snips.get(r["seq"]))[0] or "", rank=r["score"]
            )
            for msg, r in zip(messages, page, strict=True)
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            if recent:
                next_cursor = _RECENT_CURSOR_TAG + cursors.encode(
                    "search-recent", fp, [last["seq"]]
                )
            else:
                next_cursor = cursors.encode("search", fp, [last["score"], last["seq"]])
        return Page[SearchHit](items=hits, next_cursor=next_cursor)

    def _snippets(self, match: str, seqs: list[int]) -> dict[int, str]:
        """Snippets for one page of hits. FTS5 (3.40) does not seek on `rowid IN`, only on a
        rowid range: the range bounds the doclist walk, the IN list picks the page's rows."""
        if not seqs:
            return {}
        return {
            r["rowid"]: r["snip"]
            for r in self._rows(
                "SELECT rowid, snippet(messages_fts, -1, '[', ']', '…', 16) AS snip "
                "FROM messages_fts WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ? "
                f"AND rowid IN ({_marks(len(seqs))})",
                [match, min(seqs), max(seqs), *seqs],
            )
        }
