"""The send gate: the one place that decides whether an outbound action may happen.

`Sender._deliver` holds `gate.turn()` around check → transport call → record, so rate-limited
sends are judged one at a time against a log that already holds every earlier send. The order
of checks: read-only mode, content (under any policy), recipient policy, rate windows, same-text
fan-out, then the jittered spacing (a short wait, or a refusal when the queue is too long).

All store access runs on the bridge's writer thread (`run`), one call at a time, so the gate's
connection never races the ingest writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import ParamSpec, Protocol, TypeVar

from bridge.control.security import SecuritySettings
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths
from bridge.send.audit import RATE_LIMITED_KINDS, attempt_record
from bridge.send.policy import (
    PolicyConfig,
    Refusal,
    check_content,
    check_recipient,
    fanout_key,
    parse_recipients,
)
from bridge.send.ratelimit import Clock, RateLimiter, RateLimits, SystemClock
from bridge.send.visible import check_reaction, check_visible
from bridge.settings import Settings
from bridge.transport.protocol import Transport
from store.audit import Outcome, SendLogStore

P = ParamSpec("P")
R = TypeVar("R")

# Read receipts are cheap but not free: each one tells a sender the user saw their messages.
MAX_READ_RECEIPTS_PER_HOUR = 60


class Runner(Protocol):
    """Runs a blocking store call off the event loop (the bridge's WriterThread)."""

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R: ...


class _Inline:
    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        return fn(*args, **kwargs)


class GateAction(Protocol):
    """What the gate reads from an outbound action (bridge.send.sender.OutboundAction)."""

    @property
    def kind(self) -> str: ...
    @property
    def chat_jid(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def quote(self) -> str | None: ...


class SendGate:
    def __init__(
        self,
        store: SendLogStore,
        config: PolicyConfig,
        limits: RateLimits,
        *,
        resolve: Callable[[str], str],
        self_jid: Callable[[], str | None] = lambda: None,
        runner: Runner | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.limiter = RateLimiter(store, limits, clock or SystemClock(), rng)
        self.clock = self.limiter.clock
        self._resolve = resolve
        self._self_jid = self_jid
        self._runner: Runner = runner or _Inline()
        self._lock = asyncio.Lock()
        self._arrived: float | None = None  # when the action holding the turn asked for it
        # The strictest settings of the bridge and its attached servers (bridge/send/strictest).
        self.settings_source: Callable[[], SecuritySettings] | None = None
        self._applied: SecuritySettings | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: SendLogStore,
        *,
        resolve: Callable[[str], str],
        self_jid: Callable[[], str | None],
        runner: Runner,
        clock: Clock | None = None,
    ) -> SendGate:
        config = PolicyConfig(
            policy=settings.send_policy,
            allowed=parse_recipients(settings.allowed_recipients),
            blocked=parse_recipients(settings.blocked_recipients),
            read_only=settings.read_only,
        )
        return cls(
            store,
            config,
            RateLimits.from_settings(settings),
            resolve=resolve,
            self_jid=self_jid,
            runner=runner,
            clock=clock,
        )

    # ------------------------------------------------------------------ serialisation

    @contextlib.asynccontextmanager
    async def turn(self, action: GateAction) -> AsyncIterator[None]:
        """Hold the send turn for a rate-limited action (others pass straight through)."""
        if action.kind not in RATE_LIMITED_KINDS:
            yield
            return
        arrived = self.clock.now()
        async with self._lock:
            self._arrived = arrived
            try:
                yield
            finally:
                self._arrived = None

    # ------------------------------------------------------------------ the checks

    def _aliases(self, jids: frozenset[str]) -> frozenset[str]:
        """Configured entries plus their resolved forms (an @lid entry matches the phone)."""
        return jids | {self._resolve(j) for j in jids}

    def _follow_settings(self) -> None:
        """Adopt the strictest settings of the bridge and every attached server, if they moved."""
        if self.settings_source is None:
            return
        eff = self.settings_source()
        if eff == self._applied:
            return
        self._applied = eff
        self.config = PolicyConfig(
            policy=eff.send_policy,
            allowed=frozenset(eff.allowed_recipients),
            blocked=frozenset(eff.blocked_recipients),
            read_only=eff.read_only,
        )
        self.limiter.limits = eff.limits(self.limiter.limits)

    def read_only_now(self) -> bool:
        """Whether the bridge or any attached server is read-only (auto-reply asks this)."""
        self._follow_settings()
        return self.config.read_only

    async def check(self, action: GateAction) -> Refusal | None:
        """The reason `action` may not happen now, or None (after any spacing wait)."""
        self._follow_settings()
        if self.config.read_only:
            return Refusal(
                code="read_only",
                message="The bridge, or an MCP server attached to it, runs in read-only mode "
                "(WHATSAPP_MCP_READ_ONLY=1), so nothing is sent, auto-replies included. The user "
                "can set WHATSAPP_MCP_READ_ONLY=0 in every MCP server's settings to allow sending.",
            )
        refusal = _check_visible_parts(action)
        if refusal is not None:
            return refusal
        if action.kind == "mark_read":
            # A read receipt answers a chat and reaches nobody new, but it still tells the
            # sender something: it obeys the blocked list and a cheap limit of its own.
            return await self._receipt_refusal(action)
        refusal = await self.recipient_refusal(action.chat_jid)
        if refusal is not None:
            return refusal
        if action.kind not in RATE_LIMITED_KINDS:
            return None
        return await self._check_rates(action)

    async def recipient_refusal(self, chat_jid: str) -> Refusal | None:
        """Why nothing may be sent to `chat_jid` under the recipient policy, or None. Also
        asked before an auto-reply rule is switched on for a chat."""
        self._follow_settings()
        facts = await self._runner.run(self.store.recipient_facts, chat_jid, self._self_jid())
        return check_recipient(
            chat_jid,
            facts,
            self.config,
            allowed=await self._runner.run(self._aliases, self.config.allowed),
            blocked=await self._runner.run(self._aliases, self.config.blocked),
            self_jid=self._self_jid(),
        )

    async def _receipt_refusal(self, action: GateAction) -> Refusal | None:
        facts = await self._runner.run(self.store.recipient_facts, action.chat_jid, None)
        blocked = await self._runner.run(self._aliases, self.config.blocked)
        if facts.identities & blocked:
            return Refusal(
                code="recipient_blocked",
                message=f"{action.chat_jid} is in WHATSAPP_MCP_BLOCKED_RECIPIENTS, so not even "
                "read receipts go there. Remove it from that setting to allow it.",
            )
        now = self.limiter.now_ms()
        sent = await self._runner.run(self.store.count_sent, "mark_read", now - 3_600_000)
        if sent >= MAX_READ_RECEIPTS_PER_HOUR:
            return Refusal(
                code="rate_limited",
                message=f"{sent} chats were marked read in the last hour; the limit is "
                f"{MAX_READ_RECEIPTS_PER_HOUR}. Marking read tells each sender you saw their "
                "messages: do it when the user asks, for the chats they name. Try again later.",
            )
        return None

    async def _check_rates(self, action: GateAction) -> Refusal | None:
        limiter = self.limiter
        now = limiter.now_ms()
        refusal = await self._runner.run(limiter.check_windows, now)
        if refusal is None and action.text and action.kind in ("text", "media"):
            key = fanout_key(action.text)
            refusal = await self._runner.run(limiter.check_fanout, key, action.chat_jid, now)
        if refusal is not None:
            return refusal
        wait = await self._runner.run(limiter.spacing_wait, now)
        if wait <= 0:
            return None
        now_s = self.clock.now()
        queued = now_s - (self._arrived if self._arrived is not None else now_s)
        if queued + wait > limiter.limits.max_wait:
            return limiter.spacing_refusal(wait, now)
        # Time only moves on and only this turn sends, so the windows checked above still hold.
        await self.clock.sleep(wait)
        return None

    async def record(
        self,
        action: GateAction,
        outcome: Outcome,
        reason: str | None,
        message_id: str | None,
    ) -> None:
        row = attempt_record(
            at_ms=self.limiter.now_ms(),
            origin=action.origin,
            kind=action.kind,
            recipient=action.chat_jid,
            text=action.text,
            outcome=outcome,
            reason=reason,
            message_id=message_id,
            spacing_ms=self.limiter.draw_spacing_ms(),
        )
        await self._runner.run(self.store.record, row)


def _check_visible_parts(action: GateAction) -> Refusal | None:
    """What the action puts on a screen, measured as rendered (bridge/send/visible.py)."""
    if action.kind == "reaction":
        # "" removes my reaction; anything else is exactly one emoji.
        return check_reaction(action.text) if action.text else None
    if action.text:  # requests reject empty message text
        refusal = check_content(action.text, what="caption" if action.kind == "media" else "text")
        if refusal is not None:
            return refusal
    if getattr(action, "quote_had_hidden", False):
        # The stored message carried hidden characters (cleaned for display): quoting it would
        # put a payload on the recipient's screen in the user's name.
        return Refusal(
            code="hidden_characters",
            message="The quoted message contains invisible, bidi or tag characters that can "
            "hide content from the person approving the send. Send it without reply_to, or "
            "reply to another message. No setting allows this.",
        )
    if action.quote:
        return check_visible(
            action.quote,
            what="quoted message",
            fix="Send it without reply_to, or reply to another message.",
        )
    return None


def open_gate(settings: Settings, writer: WriterThread, transport: Transport) -> SendGate:
    """The bridge's gate: its own connection to the store (see store/audit.py), store calls on
    the writer thread, and @lid aliases resolved by the single writer's map."""
    store = SendLogStore.open(DataPaths(settings.data_dir).messages_db)
    return SendGate.from_settings(
        settings,
        store,
        resolve=writer.writer.resolve_jid,
        self_jid=lambda: transport.account_jid,
        runner=writer,
    )
