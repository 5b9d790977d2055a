"""Turning rules on and off: who may be auto-answered, and the checks before a rule is enabled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bridge.autoreply import rules as rulebook
from bridge.autoreply.engine_base import EngineBase, log
from bridge.autoreply.replier import (
    api_key_configured,
)
from bridge.control.autoreply import KILL_SWITCH, AutoReplyState, SetAutoReplyRequest
from bridge.send.sender import SendRefused
from bridge.send.visible import check_visible
from store import jid as jids
from store.autoreply import (
    ALL_CONTACTS,
    AutoReplyRule,
    RuleMode,
    RuleUpdate,
)
from store.errors import InvalidArgument


class RuleAdmin(EngineBase):
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
            until = until.replace(tzinfo=UTC)
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
