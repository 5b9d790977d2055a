"""The security settings a bridge enforces, on the wire: what `/health` reports, what a server
registers when it attaches, and how two sets of settings are compared and combined.

One bridge serves every MCP server of a data directory, but each server was started with its own
environment. A server started with WHATSAPP_MCP_READ_ONLY=1 or a new blocked number must not
silently use an older bridge's looser settings, so the bridge enforces the strictest settings of
all attached servers (`strictest`), and a server whose settings differ from the bridge's own
restarts it or refuses writes (mcp_server/supervision/supervisor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from bridge.control.limits import RateLimits
from bridge.settings import SendPolicy, Settings
from store.jid import parse_recipients

if TYPE_CHECKING:
    from bridge.control.client import ControlClient

# Strictest first.
_POLICY_ORDER: tuple[SendPolicy, ...] = ("contacts", "known", "any")


class SecuritySettings(BaseModel):
    """Send policy, recipient lists, read-only and the effective rate limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    send_policy: SendPolicy
    allowed_recipients: tuple[str, ...] = Field(description="Canonical JIDs, sorted.")
    blocked_recipients: tuple[str, ...] = Field(description="Canonical JIDs, sorted.")
    read_only: bool
    per_minute: int
    per_hour: int
    per_day: int
    min_interval: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SecuritySettings:
        limits = RateLimits.from_settings(settings)  # loosening capped as the gate caps it
        return cls(
            send_policy=settings.send_policy,
            allowed_recipients=tuple(sorted(parse_recipients(settings.allowed_recipients))),
            blocked_recipients=tuple(sorted(parse_recipients(settings.blocked_recipients))),
            read_only=settings.read_only,
            per_minute=limits.per_minute,
            per_hour=limits.per_hour,
            per_day=limits.per_day,
            min_interval=limits.min_interval,
        )

    def limits(self, base: RateLimits) -> RateLimits:
        return base.model_copy(
            update={
                "per_minute": self.per_minute,
                "per_hour": self.per_hour,
                "per_day": self.per_day,
                "min_interval": self.min_interval,
            }
        )


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pid: int = Field(ge=1, description="The MCP server's process id (alive = attached).")
    settings: SecuritySettings


class AttachResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bridge: SecuritySettings = Field(description="The settings the bridge was started with.")
    effective: SecuritySettings = Field(description="What it enforces: the strictest of all.")
    others: int = Field(description="Other live MCP servers registered with this bridge.")
    bridge_pid: int


def _jids(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "(none)"


def differences(bridge: SecuritySettings, mine: SecuritySettings) -> list[str]:
    """Each setting that differs, named by its environment variable: bridge value vs mine."""
    out: list[str] = []

    def differ(name: str, theirs: object, ours: object) -> None:
        if theirs != ours:
            out.append(f"{name}: the bridge has {theirs}, this server {ours}")

    differ("WHATSAPP_MCP_READ_ONLY", int(bridge.read_only), int(mine.read_only))
    differ("WHATSAPP_MCP_SEND_POLICY", bridge.send_policy, mine.send_policy)
    differ(
        "WHATSAPP_MCP_BLOCKED_RECIPIENTS",
        _jids(bridge.blocked_recipients),
        _jids(mine.blocked_recipients),
    )
    differ(
        "WHATSAPP_MCP_ALLOWED_RECIPIENTS",
        _jids(bridge.allowed_recipients),
        _jids(mine.allowed_recipients),
    )
    differ("WHATSAPP_MCP_SEND_PER_MINUTE", bridge.per_minute, mine.per_minute)
    differ("WHATSAPP_MCP_SEND_PER_HOUR", bridge.per_hour, mine.per_hour)
    differ("WHATSAPP_MCP_SEND_PER_DAY", bridge.per_day, mine.per_day)
    differ("WHATSAPP_MCP_SEND_MIN_INTERVAL", bridge.min_interval, mine.min_interval)
    return out


def strictest(first: SecuritySettings, *rest: SecuritySettings) -> SecuritySettings:
    """What holds for everyone: read-only if any is, the narrowest policy, every blocked
    entry, only the allowed entries all agree on, the lowest limits and the widest spacing."""
    all_ = (first, *rest)
    allowed = set(first.allowed_recipients)
    for s in rest:
        allowed &= set(s.allowed_recipients)
    policy: SendPolicy = _POLICY_ORDER[min(_POLICY_ORDER.index(s.send_policy) for s in all_)]
    return SecuritySettings(
        send_policy=policy,
        allowed_recipients=tuple(sorted(allowed)),
        blocked_recipients=tuple(sorted({j for s in all_ for j in s.blocked_recipients})),
        read_only=any(s.read_only for s in all_),
        per_minute=min(s.per_minute for s in all_),
        per_hour=min(s.per_hour for s in all_),
        per_day=min(s.per_day for s in all_),
        min_interval=max(s.min_interval for s in all_),
    )


async def attach(client: ControlClient, req: AttachRequest) -> AttachResponse:
    """POST /api/security/attach: register a server's settings; the answer says the bridge's."""
    return await client.call("POST", "/api/security/attach", AttachResponse, req)
