"""The auto-reply engine: inbound message events in, at most one reply per message out.

For each inbound message the bridge has just stored (`on_message`, called from the ingest path):

1. cheap filters: no live rule at all, from me, my own chat, status/broadcast/newsletter, a group
   without its own rule, a `mention_only` group message that does not mention me, a placeholder
   or a message older than `STALE_AFTER` (delivered late after an outage);
2. debounce per chat: a burst is answered once, `debounce` seconds after its last message (at
   most `MAX_WAIT_FACTOR × debounce` after its first);
3. quiet hours and loop detection (the peer answered our last auto-replies within seconds, several
   times in a row: probably another bot);
4. the claim, one SQLite transaction (see store/autoreply.py): ids already in the ledger are
   dropped (duplicate deliveries, restarts); a hand-written message of mine in the chat since
   `takeover_pause` ago, or a full hourly cap, records the ids as skipped; otherwise they are
   claimed for one reply attempt, durably, before anything is sent;
5. typing presence, the reply (Gemini with bounded retries on 429/5xx/network errors, or the
   rule's fixed text), the rest of a human-like delay, then `Sender.send_text` into the chat that
   triggered it, with origin `auto_reply` (the policy gate applies, and the stored message is
   marked as an auto-reply);
6. the attempt is closed as sent / failed / skipped, with tokens and errors in the rule's stats.

Nothing here raises into the bridge: a failure is logged and recorded, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from bridge.autoreply import rules as rulebook
from bridge.autoreply.prompt import build_request
from bridge.autoreply.ratewait import wait_for_window
from bridge.autoreply.replier import (
    Generated,
    Replier,
    ReplyError,
    ReplyFailed,
    ReplyRetryable,
    api_key_configured,
)
from bridge.control.autoreply import KILL_SWITCH, AutoReplyState, SetAutoReplyRequest
from bridge.control.models import SendResponse, SendTextRequest
from bridge.ingest.writer_thread import WriterThread
from bridge.paths import DataPaths
from bridge.send.sender import Sender, SendRefused
from bridge.send.visible import check_visible
from bridge.settings import Settings
from bridge.transport.protocol import Transport, TransportError
from store import jid as jids
from store.autoreply import (
    ALL_CONTACTS,
    AutoReplyRule,
    AutoReplyStore,
    Claim,
    RuleMode,
    RuleUpdate,
)
from store.clock import SYSTEM_CLOCK, utcnow
from store.db import open_writer
from store.errors import InvalidArgument, StoreError
from store.models import Message, MessageRecord, to_ms
from store.reader import StoreReader

log = logging.getLogger(__name__)

# A message older than this when it reaches us (delivered after an outage) is not answered.
STALE_AFTER = timedelta(hours=1)
MAX_WAIT_FACTOR = 3
# Loop detection: this many auto-replies in a row answered by the peer within LOOP_GAP.
LOOP_PAIRS = 3
LOOP_GAP = timedelta(seconds=3)
MAX_REPLY_CHARS = 4096
# Typing speed used for the human-like delay, within the delay bounds from the settings.
CHARS_PER_SECOND = 12.0
MAX_BACKOFF = 30.0
MAX_CONCURRENT_REPLIES = 16
# Sends refused as rate_limited although the windows had room (spacing queue): tries, at most.
MAX_RATE_RETRIES = 5


def _utcnow() -> datetime:
    return utcnow(SYSTEM_CLOCK)


@dataclass
class _ChatQueue:
    pending: dict[str, MessageRecord] = field(default_factory=dict)
    first_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    busy: bool = False


class AutoReplyEngine:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport,
        sender: Sender,
        writer: WriterThread,
        reader: StoreReader,
        replier: Replier | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.sender = sender
        self.writer = writer
        self.reader = reader
        self._replier = replier
        self._clock = clock
        self._store: AutoReplyStore | None = None
        self._rules: dict[str, AutoReplyRule] = {}
        self._queues: dict[str, _ChatQueue] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REPLIES)
        self.considered = 0  # inbound deliveries looked at (observability, tests)
        # Benchmarks, whose fake peers answer instantly by design, turn loop detection off.
        self.loop_pairs = LOOP_PAIRS

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        path = DataPaths(self.settings.data_dir).messages_db

        def open_store() -> AutoReplyStore:
            store = AutoReplyStore(open_writer(path))
            abandoned = store.abandon_claims()
            if abandoned:
                log.warning(
                    "%d auto-reply attempt(s) were interrupted by a bridge stop; their messages "
                    "stay unanswered (at most one reply per message)",
                    abandoned,
                )
            return store

        try:
            self._store = await self.writer.run(open_store)
            self._rules = {r.chat: r for r in await self.writer.run(self._store.rules)}
        except (StoreError, sqlite3.Error):
            # The bridge still serves reads and sends; only auto-reply stays off.
            log.exception("auto-reply is unavailable: its tables cannot be opened")
            return
        live = [r.chat for r in self._rules.values() if rulebook.is_live(r, self._clock())]
        if live:
            log.info("auto-reply is on for: %s", ", ".join(live))

    async def stop(self) -> None:
        for queue in self._queues.values():
            if queue.timer is not None:
                queue.timer.cancel()
        self._queues.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._replier is not None:
            with contextlib.suppress(Exception):
                await self._replier.aclose()
        if self._store is not None:
            await self.writer.run(self._store.close)
            self._store = None

    @property
    def store(self) -> AutoReplyStore:
        if self._store is None:
            raise StoreError(
                "Auto-reply is unavailable: the bridge could not open its tables (see bridge.log "
                "in the data dir), or it is still starting."
            )
        return self._store

    def active(self) -> bool:
        """True while any rule is on and unexpired: the bridge then stays up unattended."""
        now = self._clock()
        return any(rulebook.is_live(r, now) for r in self._rules.values())

    def idle(self) -> bool:
        """Nothing waiting in a debounce and no reply in progress."""
        return not self._queues and not self._tasks

    # ------------------------------------------------------------------ rules (control API)

    def state(self) -> AutoReplyState:
        return AutoReplyState(
            rules=sorted(self._rules.values(), key=lambda r: r.chat),
            model=self.settings.autoreply_model,
            gemini_key_configured=api_key_configured(),
        )

    async def refresh_state(self) -> AutoReplyState:
        self._rules = {r.chat: r for r in await self.writer.run(self.store.rules)}
        return self.state()

    async def set_rule(self, req: SetAutoReplyRequest) -> AutoReplyState:
        if req.chat.strip() == KILL_SWITCH:
            if req.enabled:
                raise InvalidArgument(
                    "chat='*' only switches everything off (enabled=false). To answer all saved "
                    "contacts use chat='all_contacts'."
                )
            count = await self.writer.run(self.store.disable_all)
            self._drop_pending(None)
            log.warning("auto-reply kill switch: %d rule(s) switched off", count)
            return await self.refresh_state()
        key = await self._rule_key(req.chat)
        existing = self._rules.get(key)
        update = self._merge(key, req, existing)
        if update.enabled:
            self._check_enable(update)
            if key != ALL_CONTACTS:
                # The same recipient rule as a send: a rule must not outlive the conversation
                # that set it and keep answering into a chat the user never agreed to.
                refusal = await self.sender.gate.recipient_refusal(key)
                if refusal is not None:
                    raise SendRefused(
                        refusal.code, f"Auto-reply cannot be switched on: {refusal.message}"
                    )
        rule = await self.writer.run(self.store.put_rule, update)
        self._rules[key] = rule
        if not rule.enabled:
            self._drop_pending(key)
        log.info("auto-reply rule for %s: %s", key, "on" if rule.enabled else "off")
        return await self.refresh_state()

    async def _rule_key(self, chat: str) -> str:
        text = chat.strip()
        if text.lower() == ALL_CONTACTS:
            return ALL_CONTACTS
        address = jids.parse_address(text)
        if address is None:
            raise InvalidArgument(
                f"{text!r} is not a chat JID or phone number. Use the JID from list_chats or "
                "search_contacts, 'all_contacts', or '*' (with enabled=false) for everything."
            )
        key = await self.writer.run(self.writer.writer.resolve_jid, address)
        if rulebook.never_answered(key, self.transport.account_jid):
            raise InvalidArgument(
                f"Auto-reply cannot be set for {key}: never for my own chat, status "
                "broadcasts, broadcast lists or newsletters."
            )
        if not (jids.is_user(key) or jids.is_group(key)):
            raise InvalidArgument(
                f"{key} is not a person's or a group's chat; use the phone-number JID from "
                "list_chats."
            )
        return key

    def _merge(self, key: str, req: SetAutoReplyRequest, old: AutoReplyRule | None) -> RuleUpdate:
        def keep(new: str | None, current: str | None) -> str | None:
            if new is None:
                return current
            return new.strip() or None  # "" clears

        quiet = keep(req.quiet_hours, old.quiet_hours if old else None)
        if quiet is not None:
            rulebook.parse_quiet_hours(quiet)
        until = req.until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)
        if not req.enabled and until is None and old is not None:
            until = old.until
        mode = req.mode or (old.mode if old else None)
        static_text = keep(req.static_text, old.static_text if old else None)
        if mode is None:
            mode = RuleMode.static if req.static_text else RuleMode.gemini
        mention_only = req.mention_only
        if mention_only is None:
            mention_only = old.mention_only if old else jids.is_group(key)
        return RuleUpdate(
            chat=key,
            enabled=req.enabled,
            mode=mode,
            instructions=keep(req.instructions, old.instructions if old else None),
            static_text=static_text,
            mention_only=mention_only,
            until=until,
            quiet_hours=quiet,
        )

    def _check_enable(self, update: RuleUpdate) -> None:
        if self.settings.read_only or self.sender.gate.read_only_now():
            raise InvalidArgument(
                "The bridge, or an MCP server attached to it, runs in read-only mode "
                "(WHATSAPP_MCP_READ_ONLY=1): auto-reply cannot be switched on."
            )
        if update.until is not None and update.until <= self._clock():
            raise InvalidArgument(
                f"until={update.until.isoformat()} is in the past; give a future time, or omit it "
                "for no expiry."
            )
        if update.mode is RuleMode.static and not update.static_text:
            raise InvalidArgument("mode 'static' needs static_text: the message to send.")
        if update.mode is RuleMode.static and update.static_text:
            # Refused now rather than at every reply: the same rules as any send.
            refusal = check_visible(update.static_text, what="static_text")
            if refusal is not None:
                raise InvalidArgument(refusal.message)
        if update.mode is RuleMode.gemini and not api_key_configured():
            raise InvalidArgument(
                "No Gemini API key: add GEMINI_API_KEY to the MCP server's environment in your "
                "host's config (the server passes it to the bridge), then run "
                "`whatsapp-mcp stop` so the bridge restarts with it. Or use mode='static' with a "
                "fixed static_text, which needs no model."
            )

    def _drop_pending(self, rule_key: str | None) -> None:
        """Forget messages waiting in a debounce that the rule `rule_key` (None: any) covered."""
        now = self._clock()
        for key, queue in list(self._queues.items()):
            own = self._rules.get(key)
            covered_by_all = rule_key == ALL_CONTACTS and not (own and rulebook.is_live(own, now))
            if rule_key is None or key == rule_key or covered_by_all:
                if queue.timer is not None:
                    queue.timer.cancel()
                    queue.timer = None
                queue.pending.clear()
                queue.first_at = None
                if not queue.busy:  # a busy one is removed when its reply finishes
                    del self._queues[key]

    # ------------------------------------------------------------------ inbound

    def on_message(self, message: MessageRecord) -> None:
        """A message was just stored; decide in the background whether it gets a reply."""
        self.considered += 1
        if message.is_from_me or self._store is None or not self.active():
            return
        self._spawn(self._consider(message))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("auto-reply task failed", exc_info=task.exception())

    async def _consider(self, message: MessageRecord) -> None:
        w = self.writer.writer
        chat = await self.writer.run(w.resolve_jid, message.chat_jid)
        account = self.transport.account_jid
        if rulebook.never_answered(chat, account) or message.is_placeholder:
            return
        if message.sender:
            with contextlib.suppress(InvalidArgument):
                if await self.writer.run(w.resolve_jid, message.sender) == account:
                    return
        now = self._clock()
        rule = await self._rule_for(chat, now)
        if rule is None:
            return
        if jids.is_group(chat) and rule.mention_only:
            if not rulebook.mentions_me(message, account, set()):
                return
        if message.timestamp < now - STALE_AFTER:
            await self.writer.run(
                self.store.skip, chat_jid=chat, rule=rule.chat, message_ids=[message.id],
                reason="stale",
            )  # fmt: skip
            return
        self._enqueue(chat, message)

    async def _rule_for(self, chat: str, now: datetime) -> AutoReplyRule | None:
        own = self._rules.get(chat)
        everyone = self._rules.get(ALL_CONTACTS)
        saved = False
        if own is None and everyone is not None and rulebook.is_live(everyone, now):
            saved = await asyncio.to_thread(self._is_saved_contact, chat)
        return rulebook.rule_for(chat, self._rules, now, is_saved_contact=saved)

    def _is_saved_contact(self, chat: str) -> bool:
        return any(
            c.jid == chat and c.is_saved
            for c in self.reader.search_contacts(jids.user_part(chat), limit=20).items
        )

    # ------------------------------------------------------------------ debounce

    def _enqueue(self, chat: str, message: MessageRecord) -> None:
        queue = self._queues.setdefault(chat, _ChatQueue())
        queue.pending[message.id] = message
        if queue.first_at is None:
            queue.first_at = time.monotonic()
        if not queue.busy:
            self._arm(chat, queue)

    def _arm(self, chat: str, queue: _ChatQueue) -> None:
        if queue.timer is not None:
            queue.timer.cancel()
        debounce = self.settings.autoreply_debounce
        first = queue.first_at if queue.first_at is not None else time.monotonic()
        latest = first + MAX_WAIT_FACTOR * debounce
        delay = max(0.0, min(debounce, latest - time.monotonic()))
        queue.timer = asyncio.get_running_loop().call_later(delay, self._fire, chat)

    def _fire(self, chat: str) -> None:
        queue = self._queues.get(chat)
        if queue is None:
            return
        queue.timer = None
        if queue.busy or not queue.pending:
            return
        batch = list(queue.pending.values())
        queue.pending.clear()
        queue.first_at = None
        queue.busy = True
        self._spawn(self._run(chat, queue, batch))

    async def _run(self, chat: str, queue: _ChatQueue, batch: list[MessageRecord]) -> None:
        try:
            async with self._slots:
                await self._reply(chat, batch)
        except asyncio.CancelledError:
            raise
        except Exception:  # top of the worker: nothing may escape into the bridge
            log.exception("auto-reply for %s failed", chat)
        finally:
            queue.busy = False
            if queue.pending:
                self._arm(chat, queue)
            elif queue.timer is None:
                self._queues.pop(chat, None)

    # ------------------------------------------------------------------ one reply

    async def _reply(self, chat: str, batch: list[MessageRecord]) -> None:
        now = self._clock()
        rule = await self._rule_for(chat, now)
        if rule is None:
            return  # switched off while the burst was settling
        ids = [m.id for m in batch]
        is_group = jids.is_group(chat)
        limit = max(self.settings.autoreply_history, 2 * LOOP_PAIRS + 1)
        history = await asyncio.to_thread(self._history, chat, limit)
        skip = None
        if rulebook.in_quiet_hours(rule.quiet_hours, now.astimezone()):
            skip = "quiet_hours"
        elif self.loop_pairs and loop_suspected(history, self.loop_pairs):
            skip = "loop_suspected"
        if skip is not None:
            await self.writer.run(
                self.store.skip, chat_jid=chat, rule=rule.chat, message_ids=ids, reason=skip
            )
            log.info("auto-reply to %s skipped: %s", chat, skip)
            return
        s = self.settings
        claim = await self.writer.run(
            self.store.claim,
            chat_jid=chat,
            rule=rule.chat,
            message_ids=ids,
            chat_cap=s.autoreply_chat_cap,
            global_cap=s.autoreply_global_cap,
            takeover_since=now - timedelta(seconds=s.autoreply_takeover_pause),
            now=now,
        )
        if not isinstance(claim, Claim):
            if claim is not None:
                log.info("auto-reply to %s skipped: %s", chat, claim.reason)
            return
        await self._answer(chat, rule, claim, batch, history, is_group)

    def _history(self, chat: str, limit: int) -> list[Message]:
        return self.reader.list_messages(chat_jid=chat, order="newest", limit=limit).items

    async def _answer(
        self,
        chat: str,
        rule: AutoReplyRule,
        claim: Claim,
        batch: list[MessageRecord],
        history: list[Message],
        is_group: bool,
    ) -> None:
        # Typing only once the send can follow: a full rate window is waited out first.
        if not await self._await_send_window(chat, claim, batch):
            return
        started = time.monotonic()
        typing = self.settings.autoreply_delay_max > 0
        if typing:
            await self._typing(chat, True)
        sent = False
        try:
            try:
                generated = await self._generate(rule, chat, history, is_group)
            except ReplyError as exc:
                await self._finish(claim, "failed", detail=str(exc))
                log.warning("auto-reply to %s failed: %s", chat, exc)
                return
            text = generated.text[:MAX_REPLY_CHARS]
            current = self._rules.get(rule.chat)
            if current is None or not rulebook.is_live(current, self._clock()):
                await self._finish(claim, "skipped", detail="switched_off")
                return
            await asyncio.sleep(max(0.0, self._delay(text) - (time.monotonic() - started)))
            newest = max(batch, key=lambda m: m.timestamp)
            request = SendTextRequest(
                to=chat,
                text=text,
                # In a group, quote what we answer; a direct chat needs no quote.
                reply_to=newest.id if is_group else None,
                origin="auto_reply",
            )
            try:
                result = await self._send_when_allowed(chat, claim, batch, request)
            except SendRefused as exc:
                await self._finish(claim, "failed", detail=f"send refused: {exc.code}: {exc}")
                return
            except (TransportError, StoreError) as exc:
                await self._finish(claim, "failed", detail=f"send failed: {exc}")
                return
            if result is None:
                return  # recorded as skipped: the window stays full past the staleness limit
            sent = True
            await self._finish(
                claim,
                "sent",
                reply_id=result.id,
                prompt_tokens=generated.prompt_tokens,
                output_tokens=generated.output_tokens,
                total_tokens=generated.total_tokens,
            )
        finally:
            if typing and not sent:
                await self._typing(chat, False)

    # ------------------------------------------------------------------ rate windows

    async def _await_send_window(self, chat: str, claim: Claim, batch: list[MessageRecord]) -> bool:
        """Wait until the send windows have room (bridge/autoreply/ratewait.py). False, with
        the claim recorded as skipped and the reason, when that is past the staleness limit
        of the oldest message of the batch: it is then not answered at all, visibly."""
        deadline = min(m.timestamp for m in batch) + STALE_AFTER
        free_at = await wait_for_window(self.sender.gate, self.writer, to_ms(deadline))
        if free_at is None:
            return True
        when = datetime.fromtimestamp(free_at / 1000, tz=timezone.utc)
        reason = (
            f"rate_limited: the send limits allow the next message at {when:%Y-%m-%d %H:%M:%S} "
            f"UTC, after this message is stale ({STALE_AFTER.total_seconds() / 60:.0f} min)"
        )
        await self._finish(claim, "skipped", detail=reason)
        log.info("auto-reply to %s skipped: %s", chat, reason)
        return False

    async def _send_when_allowed(
        self, chat: str, claim: Claim, batch: list[MessageRecord], request: SendTextRequest
    ) -> SendResponse | None:
        """Send; a `rate_limited` refusal (another send took the window, or the spacing queue
        was long) waits again instead of dropping the reply. None: recorded as skipped."""
        gate = self.sender.gate
        for attempt in range(1, MAX_RATE_RETRIES + 1):
            try:
                return await self.sender.send_text(request)
            except SendRefused as exc:
                if exc.code != "rate_limited" or attempt == MAX_RATE_RETRIES:
                    raise
            await self._typing(chat, False)  # no "typing…" while we wait
            if not await self._await_send_window(chat, claim, batch):
                return None
            # Windows free but refused: the spacing queue was full; let it drain.
            await gate.clock.sleep(gate.limiter.limits.min_interval * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _finish(
        self,
        claim: Claim,
        state: Literal["sent", "failed", "skipped"],
        *,
        detail: str | None = None,
        reply_id: str | None = None,
        prompt_tokens: int | None = None,
        output_tokens: int | None = None,
        total_tokens: int | None = None,
    ) -> None:
        await self.writer.run(
            self.store.finish,
            claim.reply_seq,
            state=state,
            detail=detail,
            reply_id=reply_id,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            total_tokens=total_tokens,
        )

    def _delay(self, text: str) -> float:
        lo = self.settings.autoreply_delay_min
        hi = max(lo, self.settings.autoreply_delay_max)
        return min(hi, max(lo, len(text) / CHARS_PER_SECOND))

    async def _typing(self, chat: str, on: bool) -> None:
        try:
            await self.sender.set_typing(chat, on, origin="auto_reply")
        except (SendRefused, TransportError, StoreError) as exc:
            log.debug("typing presence for %s not sent: %s", chat, exc)

    async def _generate(
        self, rule: AutoReplyRule, chat: str, history: list[Message], is_group: bool
    ) -> Generated:
        if rule.mode is RuleMode.static:
            if not rule.static_text:
                raise ReplyFailed("The rule is in static mode but has no static_text.")
            return Generated(text=rule.static_text)
        name = await asyncio.to_thread(self._chat_name, chat)
        request = build_request(
            instructions=rule.instructions,
            chat_name=name,
            is_group=is_group,
            history=history,
            budget=self.settings.autoreply_history_chars,
        )
        replier = await self._get_replier()
        attempts = self.settings.autoreply_gemini_attempts
        backoff = self.settings.autoreply_retry_delay
        last: ReplyRetryable | None = None
        for attempt in range(1, attempts + 1):
            try:
                generated = await replier.generate(request)
            except ReplyRetryable as exc:
                last = exc
                log.info("Gemini attempt %d/%d for %s: %s", attempt, attempts, chat, exc)
                if attempt < attempts:
                    pause = min(MAX_BACKOFF, backoff * 2 ** (attempt - 1))
                    await asyncio.sleep(pause * (1 + random.random() / 4))
                continue
            generated.attempts = attempt
            return generated
        raise ReplyFailed(f"{last} (gave up after {attempts} tries)")

    def _chat_name(self, chat: str) -> str | None:
        with contextlib.suppress(StoreError):
            return self.reader.get_chat(chat).name
        return None

    async def _get_replier(self) -> Replier:
        if self._replier is None:
            # google-genai takes a moment to import: only when a Gemini rule first needs it.
            module = await asyncio.to_thread(importlib.import_module, "bridge.autoreply.gemini")
            self._replier = module.GeminiReplier(self.settings.autoreply_model)
        assert self._replier is not None
        return self._replier


def loop_suspected(history: list[Message], pairs_needed: int = LOOP_PAIRS) -> bool:
    """The peer answered each of our last `pairs_needed` auto-replies within LOOP_GAP: a bot.

    `history` is newest first. A message of mine written by hand breaks the pattern.
    """
    pairs = 0
    i = 0
    while i + 1 < len(history) and pairs < pairs_needed:
        theirs, ours = history[i], history[i + 1]
        if theirs.is_from_me or not (ours.is_from_me and ours.is_auto_reply):
            break
        if theirs.timestamp - ours.timestamp > LOOP_GAP:
            break
        pairs += 1
        i += 2
    return pairs >= pairs_needed
