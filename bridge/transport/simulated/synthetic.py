"""Synthetic history (benchmarks, --simulate-history): Zipf words, many chats, peers' replies."""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bridge.transport.simulated.cast import DEFAULT_ACCOUNT_JID, Person
from store.models import (
    ChatRecord,
    ContactRecord,
    HistoryBatch,
    MessageRecord,
    utc,
)

# ------------------------------------------------------------------------------ peer answers

_TOPICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("dinner", "lunch", "eat"), "{Gist}? Sounds delicious 🍝 what time suits you?"),
    (("rent", "repair", "boiler", "window"), "Thanks, I'll look into it (“{gist}”) this week."),
    (("dentist", "appointment", "check-up"), "Noted: “{gist}”. We'll confirm your appointment."),
    (("football", "game", "match", "sunday"), "Count me in ⚽"),
    (("café", "cafe", "coffee"), "Always up for coffee ☕ Café Lumière?"),
    (("thank", "thanks"), "You're welcome! 😊"),
)


def _gist(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text.rstrip("?!.")
    return text[:limit].rsplit(" ", 1)[0] + "…"


def compose_reply(person: Person, text: str, count: int) -> str:
    """A plausible answer from `person` to `text`, the `count`-th answer this session.

    Deterministic (crc32, not the salted built-in hash) so a replayed session answers the same.
    """
    lowered = text.lower()
    if person.business_name:
        return person.replies[count % len(person.replies)]
    for words, template in _TOPICS:
        if any(w in lowered for w in words):
            gist = _gist(text)
            return template.format(gist=gist, Gist=gist[:1].upper() + gist[1:])
    if text.rstrip().endswith("?"):
        return f"Good question! Let me check about “{_gist(text)}” and get back to you."
    pool = (*person.replies, f"Haha, “{_gist(text, 30)}” 😄")
    return pool[(zlib.crc32(text.encode()) + count) % len(pool)]


# ------------------------------------------------------------------------------ synthetic history

_COMMON_WORDS = (
    "the to I you and a it is that of in for me my on have be we this with so just what not "
    "do at but are ok can was will no yes get all your like if know up go how there it's out "
    "good about today now one they time see when then too lol think i'm he she tomorrow back "
    "need did want from going come really love got here well thanks some don't home work "
    "would make why sure right still morning night after more let's should call day week "
    "later tonight yeah them our great maybe been also take sorry were where happy could "
    "look new oh over only much dinner food coffee weekend meeting done ready late free "
    "nice tell thing next leave soon around already first send photo haha never any way"
).split()


_SYLLABLES = (
    "ka ri mo ta ne lu so vi de pa zu ra mi to ke no be la sa fi ga do ru me chi ko na "
    "ven tor mar lin qua bel dor fen"
).split()


_FIRST_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Lucas Mia Mateo Isabella Levi "
    "Aisha Omar Yuki Hiro Chloe Arjun Zara Diego Fatima Ivan Leila Tariq Ingrid Sven Nia Kofi"
).split()


_LAST_NAMES = (
    "Smith Jones Patel Kim Nguyen Müller Rossi Dubois Silva Khan Novak Haddad Sato Okoye "
    "Larsen Costa Ibrahim Schmidt Moreau Kowalski Ortiz Chen Fischer Andersen Mensah Reyes"
).split()


ZIPF_EXPONENT = 1.1


_PSEUDO_WORDS = 3000


_SPAN = timedelta(days=730)


# Multiplying a counter by an odd constant is a bijection mod 2**64: unique ids that look random.
_ID_MIX = 0x9E3779B97F4A7C15


_MASK64 = (1 << 64) - 1


def zipf_vocabulary(seed: int) -> list[str]:
    """Common English words first (the most frequent ranks), then pseudo-words."""
    rng = random.Random(f"vocab/{seed}")
    words: list[str] = list(dict.fromkeys(_COMMON_WORDS))
    seen = set(words)
    while len(words) < len(_COMMON_WORDS) + _PSEUDO_WORDS:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def synthetic_chat_count(n: int) -> int:
    return max(1, round(n / 100))


def synthetic_person(index: int, rng: random.Random) -> Person:
    """The `index`-th synthetic contact: +1 555 3xx xxxx numbers, 70% saved, 30% push name only."""
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    saved = rng.random() < 0.7
    return Person(
        key=f"synthetic{index}",
        phone=f"1555{3_000_000 + index:07d}",
        push_name=name.split()[0] if saved else name,
        saved_name=name if saved else None,
        answers=False,
    )


def synthetic_history(
    n: int,
    *,
    seed: int,
    now: datetime,
    batch_size: int = 5000,
    account_jid: str = DEFAULT_ACCOUNT_JID,
) -> Iterator[HistoryBatch]:
    """`n` messages over `synthetic_chat_count(n)` direct chats in the ~2 years before `now`.

    Oldest first. A chat's `ChatRecord` and `ContactRecord` come in the batch of its first
    message. Words follow a Zipf law (rank^-1.1) and chats a flatter one (rank^-0.6), so a few
    words and a few chats dominate as in real history. About 5 µs per message.
    """
    if n < 0 or batch_size < 1:
        raise ValueError("n must be >= 0 and batch_size >= 1")
    rng = random.Random(f"synthetic/{seed}")
    vocab = zipf_vocabulary(seed)
    word_cum = list(itertools.accumulate(r**-ZIPF_EXPONENT for r in range(1, len(vocab) + 1)))
    n_chats = synthetic_chat_count(n)
    chat_cum = list(itertools.accumulate(r**-0.6 for r in range(1, n_chats + 1)))
    id_key = rng.getrandbits(64)
    people: dict[int, Person] = {}
    last: dict[int, tuple[str, str]] = {}  # chat → (id, sender) of its latest message
    end = int(utc(now).timestamp())
    start = end - int(_SPAN.total_seconds())
    step = (end - start) / max(n, 1)
    tz = UTC
    expo, rand = rng.expovariate, rng.random

    for first in range(0, n, batch_size):
        count = min(batch_size, n - first)
        lengths = [1 + min(int(expo(1 / 6)), 40) for _ in range(count)]
        words = rng.choices(vocab, cum_weights=word_cum, k=sum(lengths))
        chat_ix = rng.choices(range(n_chats), cum_weights=chat_cum, k=count)
        messages: list[MessageRecord] = []
        chats: list[ChatRecord] = []
        contacts: list[ContactRecord] = []
        pos = 0
        for j in range(count):
            i = first + j
            c = chat_ix[j]
            person = people.get(c)
            if person is None:
                person = people[c] = synthetic_person(c, rng)
                contacts.append(person.contact())
                chats.append(ChatRecord(jid=person.jid, name=person.saved_name))
            length = lengths[j]
            text = " ".join(words[pos : pos + length])
            pos += length
            mine = rand() < 0.4
            mid = f"3EB0{(i * _ID_MIX + id_key) & _MASK64:016X}"
            sender = account_jid if mine else person.jid
            quoted = last.get(c) if rand() < 0.05 else None
            messages.append(
                MessageRecord(
                    id=mid,
                    chat_jid=person.jid,
                    sender=sender,
                    sender_name=None if mine else person.push_name,
                    content=text[:1].upper() + text[1:],
                    is_from_me=mine,
                    reply_to_id=quoted[0] if quoted else None,
                    reply_to_sender=quoted[1] if quoted else None,
                    timestamp=datetime.fromtimestamp(int(start + i * step + rand() * step), tz),
                )
            )
            last[c] = (mid, sender)
        yield HistoryBatch(chats=chats, contacts=contacts, messages=messages)
