"""Scheduled sends across the control API: wire models, the time parser both sides use, and one
typed client function per endpoint.

Times are ISO 8601 with an offset (`2026-12-24T08:00+01:00`, `…Z`) or an ISO local time followed
by an IANA time zone name (`2026-12-24 08:00 Europe/Berlin`). A time with neither is refused:
guessing the zone is how a birthday wish goes out at 3 am.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from bridge.control.client import ControlClient
from store.errors import InvalidArgument
from store.scheduled import ScheduledMessage

MAX_AHEAD = timedelta(days=366)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleRequest(_Wire):
    to: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=65536)
    at: datetime = Field(description="When to send; timezone-aware.")
    zone: str = Field(min_length=1, max_length=64, description="The zone `at` was given in.")
    reply_to: str | None = Field(default=None, max_length=200)


class CancelScheduledRequest(_Wire):
    id: int = Field(ge=1)


def user_zone(name: str) -> tuple[tzinfo, str]:
    """The user's zone: the configured IANA name, or this machine's local zone when empty."""
    if name.strip():
        try:
            return ZoneInfo(name.strip()), name.strip()
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidArgument(
                f"WHATSAPP_MCP_TIMEZONE={name!r} is not a time zone name; use one like "
                "Europe/Berlin or America/New_York."
            ) from exc
    local = datetime.now().astimezone().tzinfo or UTC
    return local, datetime.now(local).strftime("%Z") or "local"


def _zone_named(name: str) -> ZoneInfo | None:
    if "/" not in name and name.upper() not in ("UTC", "GMT"):
        return None
    try:
        return ZoneInfo("UTC" if name.upper() in ("UTC", "GMT") else name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_when(text: str, *, example_zone: str = "Europe/Berlin") -> tuple[datetime, str]:
    """`text` as an aware UTC datetime and the zone label it was written in."""
    raw = text.strip()
    hint = (
        f"Write it as ISO 8601 with an offset (2026-12-24T08:00+01:00) or with a time zone name "
        f"after it (2026-12-24 08:00 {example_zone})."
    )
    zone: tzinfo | None = None
    label = ""
    head, _, last = raw.rpartition(" ")
    if head and (named := _zone_named(last)) is not None:
        zone, label, raw = named, last, head.strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidArgument(f"at={text!r} is not a time I can read. {hint}") from exc
    if when.tzinfo is None:
        if zone is None:
            raise InvalidArgument(f"at={text!r} has no offset or time zone. {hint}")
        when = when.replace(tzinfo=zone)
    elif not label:
        label = when.strftime("%z")
        label = f"UTC{label[:3]}:{label[3:]}" if label not in ("+0000", "") else "UTC"
    return when.astimezone(UTC), label


def check_future(when: datetime, now: datetime, text: str) -> None:
    if when <= now:
        raise InvalidArgument(
            f"at={text!r} is {when:%Y-%m-%d %H:%M:%S} UTC, which has already passed (it is now "
            f"{now:%Y-%m-%d %H:%M:%S} UTC). Give a time in the future, or use send_message "
            "to send now."
        )
    if when - now > MAX_AHEAD:
        raise InvalidArgument(
            f"at={text!r} is more than a year ahead; schedule at most {MAX_AHEAD.days} days out."
        )


def describe(when: datetime, zone_name: str) -> tuple[str, str]:
    """(time in the user's zone, time in UTC) as short readable strings."""
    tz, label = user_zone(zone_name)
    local = when.astimezone(tz)
    return (
        f"{local:%a %d %b %Y %H:%M} {label} ({local:%z})",
        f"{when.astimezone(UTC):%a %d %b %Y %H:%M} UTC",
    )


async def schedule(client: ControlClient, req: ScheduleRequest) -> ScheduledMessage:
    return await client.call("POST", "/api/schedule", ScheduledMessage, req)


async def cancel(client: ControlClient, schedule_id: int) -> ScheduledMessage:
    return await client.call(
        "POST", "/api/schedule/cancel", ScheduledMessage, CancelScheduledRequest(id=schedule_id)
    )
