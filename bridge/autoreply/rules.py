"""Which rule answers which message: pure functions, no I/O.

A rule names one chat JID or `all_contacts`. A chat's own rule always wins over `all_contacts`
(so `enabled=false` on one chat opts it out of `all_contacts`). `all_contacts` covers saved
contacts' direct chats only; a group is answered only by a rule naming that group, and, when the
rule says `mention_only`, only for messages that mention the account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time

from store import jid as jids
from store.autoreply import ALL_CONTACTS, AutoReplyRule
from store.errors import InvalidArgument
from store.models import MessageRecord

_QUIET_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """'22:00-07:00' → (22:00, 07:00); the range may wrap past midnight."""
    m = _QUIET_RE.match(text)
    if m is None:
        raise InvalidArgument(
            f"quiet_hours {text!r} must look like '22:00-07:00' (24-hour local times)."
        )
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidArgument(f"quiet_hours {text!r} has an impossible time.")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise InvalidArgument(f"quiet_hours {text!r} is empty: start and end are the same.")
    return start, end


def in_quiet_hours(quiet: str | None, local_now: datetime) -> bool:
    """True when `local_now` (the bridge's local time) falls in the rule's quiet hours."""
    if not quiet:
        return False
    start, end = parse_quiet_hours(quiet)
    now = local_now.time().replace(second=0, microsecond=0)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def is_live(rule: AutoReplyRule, now: datetime) -> bool:
    """Enabled and not expired."""
    return rule.enabled and (rule.until is None or rule.until > now)


def never_answered(chat_jid: str, account_jid: str | None) -> bool:
    """Chats no rule can ever cover: status/broadcast lists, newsletters, my own chat."""
    return jids.is_broadcast_or_newsletter(chat_jid) or (
        account_jid is not None and chat_jid == account_jid
    )


def rule_for(
    chat_jid: str,
    rules: Mapping[str, AutoReplyRule],
    now: datetime,
    *,
    is_saved_contact: bool,
) -> AutoReplyRule | None:
    """The live rule that covers `chat_jid`, if any (see the module docstring)."""
    own = rules.get(chat_jid)
    if own is not None:
        return own if is_live(own, now) else None
    if jids.is_group(chat_jid) or not jids.is_user(chat_jid) or not is_saved_contact:
        return None
    everyone = rules.get(ALL_CONTACTS)
    if everyone is not None and is_live(everyone, now):
        return everyone
    return None


def mentions_me(message: MessageRecord, account_jid: str | None, mention_aliases: set[str]) -> bool:
    """Whether a group message addresses the account: an @-mention (by phone JID or LID)."""
    if account_jid is None:
        return False
    me = {account_jid, *mention_aliases}
    for m in message.mentions:
        try:
            if jids.normalize_jid(m) in me:
                return True
        except InvalidArgument:
            continue
    digits = jids.user_part(account_jid)
    text = message.content or message.caption or ""
    return bool(digits) and f"@{digits}" in text
