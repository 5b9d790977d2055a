"""Human confirmation of risky sends, where the host can ask the person (MCP elicitation).

A send tool declares a parameter `Annotated[ElicitationResult[Confirm], Resolve(...)]`, so the
SDK runs a resolver before the tool body (python-sdk docs/handlers/elicitation.md). The resolver
checks the client's capability first: without form elicitation (Claude Desktop) it answers
"go ahead" silently and the bridge's policy decides alone; with it, a send that is risky is shown
to the person with the recipient's name and number and the full text, and only their accept
lets it go. A model cannot answer an elicitation: the host renders it to the person.

Risky: a first contact (a number that is not a saved contact), a group the user has shown no
consent to, an attachment, or a text that repeats a message from another chat. Sends the
bridge will refuse anyway are not asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit
from mcp.types import ClientCapabilities, ElicitationCapability, FormElicitationCapability
from pydantic import BaseModel, Field

from mcp_server.app import App
from store.audit import SendLogStore
from store.jid import is_group
from store.reader import StoreReader

# A line at least this long that also appears in another chat counts as quoting that chat.
_QUOTE_MIN = 24
_WORD = re.compile(r"\w+", re.UNICODE)


class Confirm(BaseModel):
    """What the person answers (a flat schema: hosts render primitives only)."""

    send: bool = Field(default=True, title="Send it", description="Send this message now.")


# The default of a send tool's confirmation parameter (the SDK always fills it in).
GO_AHEAD: ElicitationResult[Confirm] = AcceptedElicitation(data=Confirm())


@dataclass(frozen=True)
class Risk:
    chat_jid: str
    name: str | None
    reasons: tuple[str, ...]


def app_of(ctx: Context) -> App:
    """The server's App: what build_server's lifespan yields (resolvers are module-level, as
    the SDK evaluates their annotations in the module's namespace)."""
    app = ctx.request_context.lifespan_context
    assert isinstance(app, App)
    return app


def can_elicit(ctx: Context) -> bool:
    """Whether the client declared form elicitation (checked before asking, as the SDK raises
    a top-level error otherwise)."""
    session = ctx.session
    return session.check_client_capability(
        ClientCapabilities(elicitation=ElicitationCapability(form=FormElicitationCapability()))
    ) or session.check_client_capability(ClientCapabilities(elicitation=ElicitationCapability()))


def _quotes_another_chat(reader: StoreReader, chat_jid: str, text: str) -> bool:
    conn = reader._conn  # read-only connection; FTS keeps this cheap
    for line in text.splitlines():
        line = line.strip()
        words = _WORD.findall(line)
        if len(line) < _QUOTE_MIN or len(words) < 3:
            continue
        phrase = '"' + " ".join(w.replace('"', "") for w in words[:12]) + '"'
        with reader._lock:
            row = conn.execute(
                "SELECT 1 FROM messages_fts f JOIN messages m ON m.seq = f.rowid "
                "WHERE messages_fts MATCH ? AND m.chat_jid != ? "
                "AND instr(coalesce(m.content, m.caption, ''), ?) > 0 LIMIT 1",
                (f"{{content caption}} : {phrase}", chat_jid, line),
            ).fetchone()
        if row is not None:
            return True
    return False


def _sent_before(reader: StoreReader, chat_jid: str) -> bool:
    """Whether anything was ever sent to `chat_jid` from here (the send log)."""
    with reader._lock:
        row = reader._conn.execute(
            "SELECT 1 FROM send_log WHERE recipient = ? AND outcome = 'sent' LIMIT 1", (chat_jid,)
        ).fetchone()
    return row is not None


def assess(
    reader: StoreReader, chat_jid: str, text: str | None, *, policy: str, attachment: bool
) -> list[str]:
    """Why this send needs the person's confirmation (empty: it does not)."""
    with reader._lock:
        me_row = reader._conn.execute("SELECT value FROM kv WHERE key = 'account_jid'").fetchone()
    facts = SendLogStore(reader._conn).recipient_facts(chat_jid, me_row[0] if me_row else None)
    reasons: list[str] = []
    if is_group(chat_jid) or facts.is_known_group:
        if facts.group_consent is None and policy == "any":
            reasons.append("a group you have never written in, created or administer")
    elif not facts.is_saved_contact and policy != "contacts" and not _sent_before(reader, chat_jid):
        reasons.append("a first contact: this number is not one of your saved contacts")
    if attachment:
        reasons.append("it sends a file")
    if text and _quotes_another_chat(reader, chat_jid, text):
        reasons.append("the text repeats a message from another chat")
    return reasons


def question(risk: Risk, text: str | None, attachment: str | None, when: str | None = None) -> str:
    who = risk.name or risk.chat_jid
    user = risk.chat_jid.split("@", 1)[0]
    number = f"+{user}" if risk.chat_jid.endswith("@s.whatsapp.net") else risk.chat_jid
    verb = "schedule" if when else "send"
    lines = [
        f"Your assistant wants to {verb} a WhatsApp message from your account.",
        f"To: {who} ({number})",
        f"Asked because: {'; '.join(risk.reasons)}.",
    ]
    if when:
        lines.append(f"When: {when}")
    if attachment:
        lines.append(f"File: {attachment}")
    if text:
        lines += [f"Text ({len(text)} characters), exactly as it will be sent:", text]
    return "\n".join(lines)


async def confirm_or_ask(
    app: App,
    ctx: Context,
    to: str,
    text: str | None,
    *,
    attachment: str | None = None,
    when: str | None = None,
) -> Confirm | Elicit[Confirm]:
    """The resolver body: go ahead, or ask the person. `when`: a scheduled send's time, as
    given (the send then happens later, through the gate as it is at that time)."""
    if not can_elicit(ctx):
        return Confirm()
    # Judged on the whole store: on a fresh data dir a contact not yet synced would look like
    # a first contact, or a name would not resolve and the send would go unasked.
    await app.store_ready()

    def judge(r: StoreReader) -> Risk:
        chat_jid, name = r.resolve_recipient_exact(to)
        reasons = assess(
            r, chat_jid, text, policy=app.settings.send_policy, attachment=attachment is not None
        )
        return Risk(chat_jid, name, tuple(reasons))

    try:
        risk = await app.read(judge)
    except Exception:  # a bad recipient: the tool body reports it with its own error
        return Confirm()
    if not risk.reasons:
        return Confirm()
    return Elicit(question(risk, text, attachment, when), Confirm)


def require_approval(result: ElicitationResult[Confirm], *, nothing_was: str = "sent") -> None:
    """Raise the refusal a tool returns when the person did not accept (`nothing_was`: what
    did not happen, in the tool's words)."""
    if isinstance(result, AcceptedElicitation) and result.data.send:
        return
    raise ToolError(
        "declined_by_user: the user was shown this send and did not approve it; nothing was "
        f"{nothing_was}. Do not retry it unless the user asks again."
    )
