"""The simulated world's people and groups, and its message ids."""

from __future__ import annotations

import random
from dataclasses import dataclass

from store.models import (
    ContactRecord,
)

DEFAULT_ACCOUNT_JID = "15550000000@s.whatsapp.net"


ME = "me"


_USER = "@s.whatsapp.net"


# ------------------------------------------------------------------------------ identifiers


def message_id(rng: random.Random) -> str:
    """An id shaped like one WhatsApp Web assigns: "3EB0" and 16 upper-case hex digits."""
    return f"3EB0{rng.getrandbits(64):016X}"


# ------------------------------------------------------------------------------ people


@dataclass(frozen=True)
class Person:
    key: str
    phone: str  # digits with country code, no "+"
    push_name: str
    saved_name: str | None = None
    business_name: str | None = None
    lid: str | None = None
    # Canned lines this person answers with when nothing in the message calls for more.
    replies: tuple[str, ...] = ("Sounds good 👍", "Ok, talk later!", "Haha yes", "Got it, thanks!")
    answers: bool = True

    @property
    def jid(self) -> str:
        return self.phone + _USER

    @property
    def name(self) -> str:
        return self.saved_name or self.push_name

    def contact(self) -> ContactRecord:
        return ContactRecord(
            jid=self.jid,
            lid=self.lid,
            saved_name=self.saved_name,
            push_name=self.push_name,
            business_name=self.business_name,
        )


PEOPLE: tuple[Person, ...] = (
    Person(
        "maria",
        "15550100143",
        "María",
        "Maria García",
        replies=("Yesss 🙌", "Love that", "Haha you're the best", "Ok! Let me check with Leo"),
    ),
    Person(
        "tom",
        "447700900418",
        "Tom B",
        "Tom Becker (Landlord)",
        replies=("Thanks for letting me know.", "Noted, I'll get back to you this week."),
    ),
    Person(
        "okafor",
        "15550100177",
        "Okafor Family Dentistry",
        "Dr. Okafor Dentist",
        business_name="Okafor Family Dentistry",
        replies=(
            "Thank you for your message. Our reception team answers Mon–Fri, 8:00–18:00.",
            "Thank you! A member of our team will confirm shortly.",
        ),
    ),
    Person("priya", "447700900265", "Priya", "Priya Raman"),
    Person("kenji", "15550100129", "Kenji 渡辺", "Kenji Watanabe"),
    Person("mom", "15550100110", "Helen Carter", "Mom", replies=("Love you ❤️", "Ok darling x")),
    Person("dad", "447700900014", "Richard Carter", "Dad"),
    Person("ana", "447700900552", "Ana 🌻", "Ana Carter"),
    Person("lukas", "447700900731", "Lukas Schneider"),
    Person("jamal", "15550100188", "J. Wright"),
    # Sofía writes in the football group under her LID alias: the store must map it to her number.
    Person("sofia", "447700900396", "Sofía Rossi", lid="204882345678901@lid"),
    Person("noah", "15550100164", "Noah K."),
)


_BY_KEY = {p.key: p for p in PEOPLE}


FAMILY_GROUP = "120363041234567890@g.us"


FOOTBALL_GROUP = "120363059876543210@g.us"


@dataclass(frozen=True)
class _Group:
    jid: str
    name: str
    topic: str
    members: tuple[tuple[str, bool, bool], ...]  # (person key or ME, is_admin, is_super_admin)


GROUPS: tuple[_Group, ...] = (
    _Group(
        FAMILY_GROUP,
        "Family 🏡",
        "Sunday lunch rota, birthdays and far too many photos",
        (("mom", True, True), (ME, True, False), ("dad", False, False), ("ana", False, False)),
    ),
    _Group(
        FOOTBALL_GROUP,
        "Sunday Football ⚽",
        "Sundays 10:00 at Riverside Park. Bring a light and a dark shirt.",
        (
            ("lukas", True, True),
            ("jamal", True, False),
            ("sofia", False, False),
            ("kenji", False, False),
            ("maria", False, False),
            (ME, False, False),
        ),
    ),
)
