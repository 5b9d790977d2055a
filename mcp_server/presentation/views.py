"""What the read tools return: compact views of the store's models, shaped for the model.

Rules, because every byte costs the person tokens: a field that is null, false, empty or a
default is left out (dumped with `exclude_defaults`); ids are the short forms the next call
accepts as they are (`+15551234567` for a person's chat, the full JID for groups); times have
one form (`2026-12-01T09:05:12Z`); message text is capped per message, with `get_message` for
the rest. Media keys, direct paths, URLs and file hashes never appear: they stay in the store
and `download_media` is the way to a file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from store import jid as jids
from store.models import Chat, Contact, MediaInfo, Message, MessageKind, SearchHit, StoreCounts
from store.models import utc as as_utc

# Enough for almost every chat message; longer ones say how long they are.
TEXT_CAP = 300


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def compact(self) -> dict[str, Any]:
        """The JSON fields that carry information (structured content)."""
        return self.model_dump(mode="json", exclude_defaults=True)


def when(ts: datetime) -> str:
    """The one time format of every tool result (ISO 8601, UTC, seconds)."""
    return as_utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def short_id(jid: str) -> str:
    """A chat or person as the shortest id the tools accept back: `+phone` for people."""
    return jids.phone_of(jid) or jid


def capped(text: str | None, cap: int = TEXT_CAP) -> tuple[str | None, int]:
    """(`text` cut at `cap` characters, its full length if it was cut else 0)."""
    if text is None or len(text) <= cap:
        return text, 0
    return text[: cap - 1].rstrip() + "…", len(text)


def _unless_same(name: str | None, jid: str) -> str:
    """A name, unless it only repeats the number (an unnamed chat is named by its phone)."""
    return "" if not name or name == short_id(jid) else name


class MediaView(View):
    mime: str = ""
    name: str = ""
    size: int = 0
    seconds: int = 0
    width: int = 0
    height: int = 0
    downloaded: bool = False


def media_view(media: MediaInfo | None) -> MediaView | None:
    if media is None:
        return None
    # Deliberately field by field: nothing that can fetch or decrypt the file is copied.
    return MediaView(
        mime=media.mime_type or "",
        name=media.filename or "",
        size=media.file_size or 0,
        seconds=media.seconds or 0,
        width=media.width or 0,
        height=media.height or 0,
        downloaded=bool(media.local_path),
    )


class QuoteView(View):
    id: str
    sender: str = ""
    quote: str = ""


class MessageView(View):
    id: str
    chat: str
    chat_name: str = ""
    sender: str = ""
    sender_name: str = ""
    time: str
    from_me: bool = False
    kind: MessageKind = MessageKind.text
    text: str = ""
    text_length: int = 0
    caption: str = ""
    transcript: str = ""
    media: MediaView | None = None
    reply_to: QuoteView | None = None
    reactions: list[str] = []
    edited: bool = False
    deleted: bool = False
    auto_reply: bool = False
    source: str = ""
    hidden_characters_removed: bool = False


def message_view(m: Message, *, cap: int | None = TEXT_CAP) -> MessageView:
    return MessageView(**_message_fields(m, cap))


def _message_fields(m: Message, cap: int | None) -> dict[str, Any]:
    text, full = capped(m.text, cap) if cap is not None else (m.text, 0)
    caption, _ = capped(m.caption, cap) if cap is not None else (m.caption, 0)
    reply = None
    if m.reply_to is not None:
        q = m.reply_to
        who = q.sender_name or (short_id(q.sender) if q.sender else "me")
        reply = QuoteView(id=q.id, sender=who, quote=q.quote or "")
    return dict(
        id=m.id,
        chat=short_id(m.chat_jid),
        chat_name=_unless_same(m.chat_name, m.chat_jid),
        sender="" if m.is_from_me or not m.sender else short_id(m.sender),
        sender_name="" if m.is_from_me else (m.sender_name or ""),
        time=when(m.timestamp),
        from_me=m.is_from_me,
        kind=m.kind,
        text=text or "",
        text_length=full,
        caption=caption or "",
        transcript=m.transcript or "",
        media=media_view(m.media),
        reply_to=reply,
        reactions=[
            f"{r.emoji} {'me' if r.from_me else r.sender_name or short_id(r.sender)}"
            for r in m.reactions
        ],
        edited=m.edited,
        deleted=m.deleted,
        auto_reply=m.is_auto_reply,
        source=m.source or "",
        hidden_characters_removed=m.hidden_characters_removed,
    )


class ParticipantView(View):
    id: str
    name: str = ""
    role: Literal["member", "admin", "super_admin"] = "member"


class ChatView(View):
    chat: str
    name: str = ""
    group: bool = False
    unread: int = 0
    last: str = ""
    preview: str = ""
    messages: int = 0
    topic: str = ""
    my_role: str = ""
    participants: list[ParticipantView] = []
    # Filled by per-chat history coverage when the store knows it (how far back history goes).
    coverage: dict[str, Any] | None = None


def chat_view(c: Chat) -> ChatView:
    coverage = getattr(c, "coverage", None)
    return ChatView(
        chat=short_id(c.jid),
        name=_unless_same(c.name, c.jid),
        group=c.is_group,
        unread=c.unread_count,
        last=when(c.last_message_at) if c.last_message_at else "",
        preview=c.last_message_preview or "",
        messages=c.message_count or 0,
        topic=c.topic or "",
        my_role=c.my_role or "",
        participants=[
            ParticipantView(
                id=short_id(p.jid),
                name=p.name or "",
                role="super_admin" if p.is_super_admin else "admin" if p.is_admin else "member",
            )
            for p in c.participants or []
        ],
        coverage=coverage.model_dump(mode="json", exclude_none=True)
        if isinstance(coverage, BaseModel)
        else None,
    )


class ContactView(View):
    id: str
    name: str = ""
    push_name: str = ""
    business_name: str = ""
    saved: bool = False


def contact_view(c: Contact) -> ContactView:
    return ContactView(
        id=short_id(c.jid),
        name=c.name or "",
        push_name=c.push_name if c.push_name and c.push_name != c.name else "",
        business_name=c.business_name if c.business_name and c.business_name != c.name else "",
        saved=c.is_saved,
    )


class HitView(MessageView):
    snippet: str = ""


def hit_view(h: SearchHit) -> HitView:
    # The snippet carries the match: the message text would say it twice.
    fields = _message_fields(h.message, TEXT_CAP)
    fields.update(text="", text_length=0)
    return HitView(**fields, snippet=h.snippet)


class SyncView(View):
    """A history sync in progress: results may still be missing older messages."""

    state: Literal["running"]  # no default: always sent
    progress: int | None = None
    since: str


class ChatPage(View):
    items: list[ChatView]
    next_cursor: str = ""
    sync: SyncView | None = None
    note: str = ""


class MessagePage(View):
    items: list[MessageView]
    next_cursor: str = ""
    sync: SyncView | None = None
    note: str = ""
    coverage: dict[str, Any] | None = None


class HitPage(View):
    items: list[HitView]
    next_cursor: str = ""
    sync: SyncView | None = None
    note: str = ""


class ContactPage(View):
    items: list[ContactView]
    next_cursor: str = ""
    note: str = ""


class ContextView(View):
    target: MessageView
    before: list[MessageView] = []
    after: list[MessageView] = []


class CountsView(View):
    chats: int = 0
    contacts: int = 0
    messages: int = 0


def counts_view(c: StoreCounts) -> CountsView:
    return CountsView(chats=c.chats, contacts=c.contacts, messages=c.messages)
