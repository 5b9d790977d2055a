"""The text content of read results: one line per item, the notes a model needs, no JSON.

Structured content carries the same facts as JSON fields; this is the rendering a model reads
when its host shows it text (most do), so it is written to be cheap and unambiguous: each line
has the id the next call takes.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp_server.presentation.views import (
    ChatPage,
    ChatView,
    ContactPage,
    ContextView,
    HitPage,
    HitView,
    MediaView,
    MessagePage,
    MessageView,
    SyncView,
)
from store.models import MessageKind


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n // 1000} KB"
    return f"{n} B"


def _media(kind: MessageKind, media: MediaView | None) -> str:
    bits = [kind.value]
    if media is not None:
        bits += [b for b in (media.name, _size(media.size) if media.size else "") if b]
        if media.seconds:
            bits.append(f"{media.seconds}s")
    return "[" + " ".join(bits) + "]"


def _who(m: MessageView) -> str:
    if m.from_me:
        return "me (auto-reply)" if m.auto_reply else "me"
    return m.sender_name or m.sender or "?"


def message_line(m: MessageView, *, with_chat: bool, snippet: str = "") -> str:
    body = snippet or m.text
    if m.kind != MessageKind.text:
        body = " ".join(b for b in (_media(m.kind, m.media), snippet or m.caption or m.text) if b)
    if m.deleted:
        body = "[deleted]"
    parts = [m.time]
    if with_chat:
        parts.append(f"[{m.chat_name} {m.chat}]" if m.chat_name else f"[{m.chat}]")
    line = f"{' '.join(parts)} {_who(m)}: {body}"
    if m.transcript and not m.deleted:  # a voice note's words (other people's text, too)
        line += f' (transcript: "{m.transcript}")'
    if m.source:
        line += f" ({m.source}ed)" if m.source == "import" else f" ({m.source})"
    if m.reply_to is not None:
        quote = f' "{m.reply_to.quote}"' if m.reply_to.quote else ""
        line += f" (reply to {m.reply_to.sender}{quote})"
    if m.edited:
        line += " (edited)"
    if m.reactions:
        line += " {" + ", ".join(m.reactions) + "}"
    if m.text_length:
        line += f" (cut: {m.text_length} chars, get_message for all)"
    return f"{line} ·id {m.id}"


def chat_line(c: ChatView) -> str:
    head = f"{c.name} ({c.chat})" if c.name and c.name != c.chat else c.chat
    bits = [head + (" group" if c.group else "")]
    if c.last:
        bits.append(c.last)
    if c.unread:
        bits.append(f"{c.unread} unread")
    line = ", ".join(bits)
    return f"{line}: {c.preview}" if c.preview else line


def _sync_line(sync: SyncView | None) -> list[str]:
    if sync is None:
        return []
    pct = f"{sync.progress}% done, " if sync.progress is not None else ""
    return [
        f"History sync running ({pct}since {sync.since}): older messages are still arriving, "
        "so this may be incomplete; call again later."
    ]


def _tail(next_cursor: str, note: str, sync: SyncView | None) -> list[str]:
    out = _sync_line(sync)
    if note:
        out.append(note)
    if next_cursor:
        out.append(f'More: cursor="{next_cursor}"')
    return out


def chats_text(page: ChatPage) -> str:
    return _join([chat_line(c) for c in page.items], _tail(page.next_cursor, page.note, page.sync))


def messages_text(page: MessagePage, *, header: str = "") -> str:
    chats = {m.chat for m in page.items}
    lines = [message_line(m, with_chat=len(chats) > 1 or not header) for m in page.items]
    head = [header] if header and page.items else []
    return _join(head + lines, _tail(page.next_cursor, page.note, page.sync))


def hit_line(h: HitView) -> str:
    return message_line(h, with_chat=True, snippet=h.snippet)


def hits_text(page: HitPage) -> str:
    return _join([hit_line(h) for h in page.items], _tail(page.next_cursor, page.note, page.sync))


def contacts_text(page: ContactPage) -> str:
    lines = []
    for c in page.items:
        names = [n for n in (c.name, c.push_name, c.business_name) if n]
        label = " / ".join(names) if names else "(no name)"
        lines.append(f"{label} ({c.id}){'' if c.saved else ' not saved'}")
    return _join(lines, _tail(page.next_cursor, page.note, None))


def context_text(ctx: ContextView) -> str:
    lines = [message_line(m, with_chat=False) for m in ctx.before]
    lines.append("> " + message_line(ctx.target, with_chat=False))
    lines += [message_line(m, with_chat=False) for m in ctx.after]
    chat = ctx.target.chat_name or ctx.target.chat
    return _join([f"Chat {chat} ({ctx.target.chat}), oldest first; > marks the message:"], lines)


def chat_text(c: ChatView) -> str:
    lines = [chat_line(c)]
    if c.messages:
        lines.append(f"{c.messages} messages stored")
    if c.topic:
        lines.append(f"Topic: {c.topic}")
    if c.my_role:
        lines.append(f"My role: {c.my_role}")
    if c.participants:
        who = [
            (f"{p.name} ({p.id})" if p.name else p.id)
            + ("" if p.role == "member" else f" {p.role}")
            for p in c.participants
        ]
        lines.append(f"Participants ({len(who)}): " + "; ".join(who))
    return "\n".join(lines)


def _join(lines: Iterable[str], tail: Iterable[str]) -> str:
    return "\n".join([*lines, *tail])
