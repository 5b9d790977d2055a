"""The `WHATSAPP_MCP_CHANNEL_CHATS` list: which chats may be pushed into a Claude Code session.

A pushed message lands in the assistant's context unasked, so the default is narrow: the
direct chats of saved contacts, never groups or strangers. Groups and other numbers are added
by naming them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from store.jid import parse_recipients

CONTACTS = "contacts"


@dataclass(frozen=True)
class ChannelChats:
    contacts: bool  # every saved contact's direct chat
    jids: frozenset[str]  # named chats (direct or group), canonical JIDs


def parse_channel_chats(raw: str) -> ChannelChats:
    """`"contacts, +15551234567, 1203...@g.us"`; raises ValueError naming a bad entry."""
    parts = [p.strip() for p in re.split(r"[,;\n]", raw) if p.strip()]
    named = [p for p in parts if p.lower() != CONTACTS]
    return ChannelChats(contacts=len(named) < len(parts), jids=parse_recipients(",".join(named)))
