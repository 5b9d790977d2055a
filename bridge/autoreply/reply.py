"""One reply: history, Gemini, typing, the send through the gate, and the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Literal

from bridge.autoreply import rules as rulebook
from bridge.autoreply.admin import RuleAdmin
from bridge.autoreply.engine_base import (
    CHARS_PER_SECOND,
    LOOP_PAIRS,
    MAX_BACKOFF,
    MAX_RATE_RETRIES,
    MAX_REPLY_CHARS,
    STALE_AFTER,
    log,
    loop_suspected,
)
from bridge.autoreply.prompt import build_request
from bridge.autoreply.ratewait import wait_for_window
from bridge.autoreply.replier import (
    Generated,
    Replier,
    ReplyError,
    ReplyFailed,
    ReplyRetryable,
)
from bridge.control.models import SendResponse, SendTextRequest
from bridge.send.sender import SendRefused
from bridge.transport.protocol import TransportError
from store import jid as jids
from store.autoreply import (
    AutoReplyRule,
    Claim,
    RuleMode,
)
from store.errors import StoreError
from store.models import Message, MessageRecord, to_ms


class Replying(RuleAdmin):
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

    async def _await_send_window(self, chat: str, claim: Claim, batch: list[MessageRecord]) -> bool:
        """Wait until the send windows have room (bridge/autoreply/ratewait.py). False, with
        the claim recorded as skipped and the reason, when that is past the staleness limit
        of the oldest message of the batch: it is then not answered at all, visibly."""
        deadline = min(m.timestamp for m in batch) + STALE_AFTER
        free_at = await wait_for_window(self.sender.gate, self.writer, to_ms(deadline))
        if free_at is None:
            return True
        when = datetime.fromtimestamp(free_at / 1000, tz=UTC)
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
