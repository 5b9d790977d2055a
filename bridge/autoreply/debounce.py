"""Inbound messages to replies: the rule that applies, a per-chat queue, and its debounce timer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any

from bridge.autoreply import rules as rulebook
from bridge.autoreply.engine_base import MAX_WAIT_FACTOR, STALE_AFTER, _ChatQueue, log
from bridge.autoreply.reply import Replying
from store import jid as jids
from store.errors import InvalidArgument
from store.models import MessageRecord


class Debounce(Replying):
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
