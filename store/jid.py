"""WhatsApp identifiers: parse, normalise and classify JIDs and phone numbers.

A JID is `user[.agent][:device]@server`. The store keys people by their phone-number JID
without agent or device (`15551234567@s.whatsapp.net`), so one person is one chat whichever
device or alias a message came from.
"""

from __future__ import annotations

import re
import unicodedata

from store.errors import InvalidArgument

USER = "s.whatsapp.net"
GROUP = "g.us"
LID = "lid"
BROADCAST = "broadcast"
NEWSLETTER = "newsletter"
STATUS_BROADCAST = "status@broadcast"

_KNOWN_SERVERS = {USER, GROUP, LID, BROADCAST, NEWSLETTER, "c.us", "bot", "hosted", "hosted.lid"}
_JID_RE = re.compile(r"^(?P<user>[^@\s]*)@(?P<server>[a-z0-9.\-]+)$")
# E.164 allows at most 15 digits; real numbers are at least 7 with their country code.
_MIN_DIGITS, _MAX_DIGITS = 7, 15


def _ascii_digits(text: str) -> str:
    """Digits of `text` as ASCII, from any Unicode decimal digit (Arabic-Indic, full-width…)."""
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(str(unicodedata.digit(ch)))
    return "".join(out)


def looks_like_phone(text: str) -> bool:
    """True when `text` is written like a phone number: digits with only `+ - ( ) . space`."""
    stripped = text.strip()
    if not stripped or "@" in stripped:
        return False
    if any(not (ch.isdigit() or ch in "+-(). \u00a0/") for ch in stripped):
        return False
    return _MIN_DIGITS <= len(_ascii_digits(stripped)) <= _MAX_DIGITS + 2


def phone_to_jid(phone: str) -> str:
    """`+1 (555) 123-4567`, `0015551234567` or `15551234567` → `15551234567@s.whatsapp.net`.

    The number must carry its country code: WhatsApp has no notion of a local number.
    """
    digits = _ascii_digits(phone)
    if phone.strip().startswith("00") and not phone.strip().startswith("+"):
        digits = digits[2:]
    if not (_MIN_DIGITS <= len(digits) <= _MAX_DIGITS):
        raise InvalidArgument(
            f"{phone!r} is not a phone number: write it in international form with the country "
            "code, for example +15551234567."
        )
    return f"{digits}@{USER}"


def normalize_jid(jid: str) -> str:
    """Canonical JID: lower-case server, no agent or device part, `c.us` → `s.whatsapp.net`."""
    text = jid.strip()
    m = _JID_RE.match(text.lower() if "@" in text else text)
    if not m:
        raise InvalidArgument(
            f"{jid!r} is not a WhatsApp JID. A person is like 15551234567@s.whatsapp.net and a "
            "group like 120363000000000000@g.us; a phone number such as +15551234567 also works."
        )
    user, server = m.group("user"), m.group("server")
    if server not in _KNOWN_SERVERS:
        raise InvalidArgument(
            f"{jid!r} has an unknown WhatsApp server part {server!r}; use a phone number like "
            "+15551234567 or a JID ending in @s.whatsapp.net or @g.us."
        )
    if server == "c.us":
        server = USER
    if server in ("hosted", "hosted.lid"):
        # issue 12: hosted (Cloud API) participants carry a device part too; one person, one JID.
        user = user.split(":", 1)[0]
    if server in (USER, LID):
        user = user.split(":", 1)[0].split(".", 1)[0]
        if not user.isdigit():
            raise InvalidArgument(f"{jid!r}: the part before @{server} must be digits.")
    if not user and text != STATUS_BROADCAST:
        raise InvalidArgument(f"{jid!r} has no user part.")
    return f"{user}@{server}"


def parse_address(text: str) -> str | None:
    """A JID or phone number as a canonical JID; None when `text` is neither (maybe a name)."""
    if "@" in text:
        return normalize_jid(text)
    if looks_like_phone(text):
        return phone_to_jid(text)
    return None


def user_part(jid: str) -> str:
    return jid.split("@", 1)[0]


def server_part(jid: str) -> str:
    return jid.rsplit("@", 1)[-1]


def is_group(jid: str) -> bool:
    return server_part(jid) == GROUP


def is_lid(jid: str) -> bool:
    return server_part(jid) == LID


def is_user(jid: str) -> bool:
    return server_part(jid) == USER


def is_broadcast_or_newsletter(jid: str) -> bool:
    return server_part(jid) in (BROADCAST, NEWSLETTER)


def phone_of(jid: str | None) -> str | None:
    """`+15551234567` for a phone-number JID, None otherwise."""
    if jid and is_user(jid):
        return "+" + user_part(jid)
    return None


def parse_recipients(raw: str) -> frozenset[str]:
    """`"+44 7700 900123, 12345@lid"` → canonical JIDs. Raises ValueError naming a bad entry."""
    out: set[str] = set()
    for part in re.split(r"[,;\n]", raw):
        entry = part.strip()
        if not entry:
            continue
        try:
            jid = parse_address(entry)
        except InvalidArgument as exc:
            raise ValueError(str(exc)) from exc
        if jid is None:
            raise ValueError(
                f"{entry!r} is not a phone number or JID; write numbers with their country code "
                "(+15551234567) and separate entries with commas."
            )
        out.add(jid)
    return frozenset(out)
