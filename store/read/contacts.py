"""Contacts, display names, and resolving a name or number to a chat."""

from __future__ import annotations

from typing import Any

from store import cursor as cursors
from store import fts
from store import jid as jids
from store.errors import Ambiguous, InvalidArgument, NotFound
from store.models import (
    Contact,
    Page,
)
from store.read.base import _BEST_NAME, _check_limit, _like, _NameMatch, _who_matches
from store.read.search import SearchQueries
from store.text import fold, strip_hidden


class ContactQueries(SearchQueries):
    def search_contacts(
        self, query: str, *, limit: int = 20, cursor: str | None = None
    ) -> Page[Contact]:
        """Contacts whose name, phone number or JID contains `query`, by name. Empty lists all."""
        _check_limit(limit)
        q = (query or "").strip()
        fp = cursors.fingerprint("contacts", q)
        where: list[str] = []
        params: list[Any] = []
        if q:
            cond, args = _who_matches(
                q, ["saved_name", "push_name", "business_name"], "jid", phone_col="phone"
            )
            where.append(cond)
            params += args
        if cursor is not None:
            sort_key, after_jid = cursors.decode(cursor, "contacts", fp, (str, str))
            where.append("(sort_key, jid) > (?, ?)")
            params += [sort_key, after_jid]
        rows = self._rows(
            f"""
            SELECT * FROM (
                SELECT jid, phone, saved_name, push_name, business_name, lid,
                       wa_fold(coalesce({_BEST_NAME.format(p="")}, phone, jid)) AS sort_key
                FROM contacts)
            WHERE {" AND ".join(where) or "1"} ORDER BY sort_key, jid LIMIT ?
            """,
            [*params, limit + 1],
        )
        items = [
            Contact(
                jid=r["jid"],
                phone=r["phone"],
                name=strip_hidden(r["saved_name"] or r["push_name"] or r["business_name"])[0],
                saved_name=r["saved_name"],
                push_name=r["push_name"],
                business_name=r["business_name"],
                lid=r["lid"],
                is_saved=r["saved_name"] is not None,
            )
            for r in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursors.encode("contacts", fp, [last["sort_key"], last["jid"]])
        return Page[Contact](items=items, next_cursor=next_cursor)

    def _display_name(self, jid: str) -> str | None:
        """The chat's or contact's name; None for a number nobody has named."""
        row = self._one("SELECT name FROM chats WHERE jid = ?", (jid,))
        if row is not None and row["name"]:
            return str(row["name"])
        return self._names([jid]).get(jid)

    def _name_matches(self, text: str, *, chats_only: bool) -> list[_NameMatch]:
        """Every contact, group or chat whose name contains `text`, one entry per JID."""
        folded = fold(text.strip())
        like = _like(folded)
        contact_filter = (
            "AND EXISTS (SELECT 1 FROM chats WHERE chats.jid = contacts.jid)" if chats_only else ""
        )
        rows = self._rows(
            f"""
            SELECT jid, {_BEST_NAME.format(p="")} AS display,
                   wa_fold(saved_name) AS a, wa_fold(push_name) AS b, wa_fold(business_name) AS c,
                   trim(coalesce(saved_name, '')) != '' AS saved, 0 AS is_group
            FROM contacts
            WHERE (wa_fold(saved_name) LIKE ?1 ESCAPE '\\' OR wa_fold(push_name) LIKE ?1 ESCAPE '\\'
                   OR wa_fold(business_name) LIKE ?1 ESCAPE '\\') {contact_filter}
            UNION ALL
            SELECT jid, name, wa_fold(name), NULL, NULL, 0, is_group FROM chats
            WHERE wa_fold(name) LIKE ?1 ESCAPE '\\'
            LIMIT 200
            """,
            (like,),
        )
        found: dict[str, _NameMatch] = {}
        for r in rows:
            jid = r["jid"]
            m = found.setdefault(jid, _NameMatch(jid=jid, name=r["display"] or jid))
            m.saved = m.saved or bool(r["saved"])
            m.is_group = m.is_group or bool(r["is_group"])
            m.exact = m.exact or folded in (r["a"], r["b"], r["c"])
        if found:
            # A chat row can match by a name the contact row does not carry: settle who is saved.
            marks = ", ".join("?" * len(found))
            for r in self._rows(
                f"SELECT jid, saved_name FROM contacts WHERE jid IN ({marks}) "
                "AND trim(coalesce(saved_name, '')) != ''",
                tuple(found),
            ):
                found[r["jid"]].saved = True
                found[r["jid"]].name = str(r["saved_name"])
        return list(found.values())

    def _resolve_name(self, text: str, *, chats_only: bool) -> tuple[str, str | None]:
        """A name → one JID. Saved contacts come first: a name anyone can choose (a push name,
        a group's name) never beats a contact the user saved, so a stranger who calls
        themselves "Tom Becker (Landlord)" cannot receive what was meant for the landlord."""
        if not text.strip():
            raise InvalidArgument(
                "Give a recipient: a contact or group name, a phone number like +15551234567, or "
                "a JID."
            )
        matches = self._name_matches(text, chats_only=chats_only)
        saved = [m for m in matches if m.saved]
        others = [m for m in matches if not m.saved]
        saved_exact = [m for m in saved if m.exact]
        tiers: list[list[_NameMatch]] = [saved_exact]
        if not saved_exact:
            other_exact = [m for m in others if m.exact]
            # A saved contact's partial match ties with an exact name someone else chose: ask.
            tiers.append(saved + other_exact if saved and other_exact else saved)
            if not saved:
                tiers += [other_exact, [m for m in others if not m.exact]]
        for tier in tiers:
            if len(tier) == 1:
                return tier[0].jid, tier[0].name
            if len(tier) > 1:
                candidates = [f"{m.name} ({m.jid})" for m in tier[:10]]
                who = "; ".join(m.who() for m in tier[:10])
                raise Ambiguous(
                    f"{text!r} matches several chats or contacts: {who}"
                    f"{' and more' if len(tier) > 10 else ''}. Use the JID of the one you mean; "
                    "a name that is not a saved contact was chosen by that person or group.",
                    candidates=candidates,
                )
        raise NotFound(
            f"No chat or contact matches {fts.shorten_for_error(text)!r}; call search_contacts "
            "or list_chats to find the right one."
        )

    def resolve_recipient(self, text: str) -> tuple[str, str | None]:
        """(JID, display name) for a JID, a phone number or a unique contact/group/chat name."""
        if jids.parse_address(text) is not None:
            key = self._canonical(text)
            return key, self._display_name(key)
        return self._resolve_name(text, chats_only=False)

    def resolve_recipient_exact(self, text: str) -> tuple[str, str | None]:
        """Like `resolve_recipient`, but a name must match a whole name (case and accents
        aside): a send never goes to someone whose name merely contains `text`."""
        if jids.parse_address(text) is not None:
            return self.resolve_recipient(text)
        matches = self._name_matches(text, chats_only=False)
        if matches and not any(m.exact for m in matches):
            # Who is who (saved contact, a name someone chose, group): two people may show the
            # same name, and the next call must be able to pick the right number.
            shown = [m.who() for m in matches[:5]]
            raise NotFound(
                f"No contact, group or chat is named exactly {fts.shorten_for_error(text)!r}; "
                f"did you mean {' or '.join(shown)}? Pass the full name or the number as `to`."
            )
        return self._resolve_name(text, chats_only=False)

    def resolve_chat(self, text: str) -> str:
        """The JID of an existing chat given its JID, phone number or unique name."""
        if jids.parse_address(text) is not None:
            key = self._canonical(text)
            if self._one("SELECT 1 FROM chats WHERE jid = ?", (key,)) is None:
                raise NotFound(
                    f"No chat with JID {key}; call list_chats or search_contacts to find the "
                    "right one."
                )
            return key
        return self._resolve_name(text, chats_only=True)[0]
