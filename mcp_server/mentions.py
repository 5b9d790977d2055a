"""@mentions in group messages: `@<phone>` or `@<name>` of a participant becomes a real mention.

WhatsApp shows a mention when the text carries `@<number>` and the message lists that person's
JID in `mentionedJID`; the recipient's app then renders the number as the person's name. So
`@Alice` is rewritten to `@15551234567` and her JID is collected. Anything after an `@` that
matches no participant (an email address, a handle) is left as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from store.models import GroupParticipant
from store.text import fold

_PHONE = re.compile(r"\+?(\d{5,15})")


@dataclass(frozen=True)
class Mentions:
    text: str
    jids: list[str]


def _number(p: GroupParticipant) -> str:
    """What WhatsApp writes after the @: the JID's user part (digits, no +)."""
    return p.jid.split("@", 1)[0].split(":", 1)[0]


def _labels(participants: list[GroupParticipant]) -> list[tuple[str, GroupParticipant]]:
    """(folded label, participant): full names, and first names that only one person has."""
    labels: list[tuple[str, GroupParticipant]] = []
    firsts: dict[str, list[GroupParticipant]] = {}
    for p in participants:
        if not p.name or not p.name.strip():
            continue
        labels.append((fold(p.name.strip()), p))
        first = p.name.split()[0]
        firsts.setdefault(fold(first), []).append(p)
    for label, owners in firsts.items():
        if len(owners) == 1 and all(label != existing for existing, _ in labels):
            labels.append((label, owners[0]))
    # Longest first, so "@Ana Lima" wins over "@Ana".
    return sorted(labels, key=lambda item: len(item[0]), reverse=True)


def resolve_mentions(text: str, participants: list[GroupParticipant]) -> Mentions:
    """Rewrite `@name`/`@phone` of participants to `@<number>` and list their JIDs."""
    if "@" not in text or not participants:
        return Mentions(text, [])
    by_number = {_number(p): p for p in participants}
    labels = _labels(participants)
    out: list[str] = []
    jids: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        at_word_start = i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "._-")
        if ch != "@" or not at_word_start:
            out.append(ch)
            i += 1
            continue
        rest = text[i + 1 :]
        who: GroupParticipant | None = None
        used = 0
        phone = _PHONE.match(rest)
        if phone and not rest[phone.end() : phone.end() + 1].isalnum():
            who = by_number.get(phone.group(1))
            used = phone.end()
        if who is None:
            for label, p in labels:
                piece = rest[: len(label)]
                after = rest[len(label) : len(label) + 1]
                if fold(piece) == label and not after.isalnum():
                    who, used = p, len(label)
                    break
        if who is None:
            out.append(ch)
            i += 1
            continue
        out.append(f"@{_number(who)}")
        if who.jid not in jids:
            jids.append(who.jid)
        i += 1 + used
    return Mentions("".join(out), jids)
