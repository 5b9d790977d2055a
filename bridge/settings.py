"""Settings, read from the environment once at start.

The MCP server reads them, and passes its whole environment to the bridge it spawns, so a
setting in the Claude Desktop config reaches both processes. README's settings table lists
every variable here; a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "WHATSAPP_MCP_"


class SettingsError(ValueError):
    """An environment variable has a value that cannot be used."""


Toolset = Literal["read", "send", "media", "auto_reply", "admin"]
TOOLSETS: tuple[Toolset, ...] = ("read", "send", "media", "auto_reply", "admin")


# Who may receive a send (bridge/send/policy.py), strictest first.
SendPolicy = Literal["contacts", "known", "any"]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(description="Where the store, session and socket live.")
    simulate: bool = Field(
        default=False, description="Use the simulated WhatsApp instead of a phone."
    )
    simulate_seed: int = Field(default=7, description="Seed of the simulated network.")
    simulate_history: int = Field(default=0, ge=0, description="Extra synthetic history messages.")
    simulate_reply_delay: float = Field(
        default=1.5, ge=0, description="Seconds before a simulated peer answers."
    )
    bridge_idle_exit: float = Field(
        default=300.0,
        ge=0,
        description="Seconds a spawned bridge stays up with no MCP server attached and "
        "auto-reply off.",
    )
    bridge_start_timeout: float = Field(
        default=20.0, gt=0, description="Seconds a tool waits for the bridge to become healthy."
    )
    control_transport: str = Field(
        default="unix" if os.name != "nt" else "tcp",
        pattern="^(unix|tcp)$",
        description="Control API over a Unix socket, or loopback TCP (Windows).",
    )
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    toolsets: frozenset[Toolset] = Field(
        default=frozenset(TOOLSETS), description="Groups of MCP tools to register."
    )
    read_only: bool = Field(
        default=False, description="Register no write tool, and make the bridge refuse sends."
    )
    # Send safety (bridge/send/gate.py). Rate limits looser than the defaults are capped on a real
    # account (bridge/send/ratelimit.py); simulate mode accepts any value.
    send_policy: SendPolicy = Field(
        default="contacts", description="Who may receive messages: contacts, known or any."
    )
    allowed_recipients: str = Field(
        default="", description="Comma-separated phones or JIDs that are always allowed."
    )
    blocked_recipients: str = Field(
        default="", description="Comma-separated phones or JIDs that are never allowed."
    )
    send_per_minute: int = Field(default=3, ge=1, description="Sends per minute, at most.")
    send_per_hour: int = Field(default=20, ge=1, description="Sends per hour, at most.")
    send_per_day: int = Field(default=100, ge=1, description="Sends per 24 hours, at most.")
    send_min_interval: float = Field(
        default=8.0, ge=0, description="Seconds between two sends (±50 % jitter), at least."
    )

    @field_validator("allowed_recipients", "blocked_recipients")
    @classmethod
    def _recipient_list(cls, value: str) -> str:
        from store.jid import parse_recipients

        parse_recipients(value)
        return value

    # Auto-reply (bridge/autoreply). The Gemini key and base URL are read by google-genai itself
    # from GEMINI_API_KEY / GOOGLE_API_KEY / GOOGLE_GEMINI_BASE_URL (see PASSTHROUGH_ENV_VARS).
    autoreply_model: str = Field(
        default="gemini-2.5-flash", min_length=1, description="Gemini model for auto-replies."
    )
    autoreply_history: int = Field(
        default=20, ge=1, le=200, description="Messages of the chat given to the model."
    )
    autoreply_history_chars: int = Field(
        default=6000, ge=200, le=200_000, description="Character budget for that history."
    )
    autoreply_debounce: float = Field(
        default=4.0, ge=0, le=300, description="Seconds of quiet before a burst is answered."
    )
    autoreply_delay_min: float = Field(
        default=2.0, ge=0, le=600, description="Shortest typing delay before a reply (seconds)."
    )
    autoreply_delay_max: float = Field(
        default=10.0, ge=0, le=600, description="Longest typing delay before a reply (seconds)."
    )
    autoreply_chat_cap: int = Field(
        default=10, ge=1, description="Auto-replies per chat per hour, at most."
    )
    autoreply_global_cap: int = Field(
        default=20, ge=1, description="Auto-replies across all chats per hour, at most."
    )
    autoreply_takeover_pause: float = Field(
        default=1800.0, ge=0, description="Seconds a chat stays quiet after I write in it by hand."
    )
    autoreply_gemini_attempts: int = Field(
        default=3, ge=1, le=10, description="Tries per reply on Gemini 429/5xx/network errors."
    )
    autoreply_retry_delay: float = Field(
        default=1.0, ge=0, le=60, description="First backoff between Gemini tries; doubles."
    )
    media_roots: str = Field(
        default="",
        description="Folders files may be sent from (os.pathsep-separated absolute paths); "
        "empty means <data dir>/outbox. See bridge.send.media_files.",
    )
    # issue 16: live messages and history coverage.
    simulate_history_chunk_delay: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="Simulate mode: seconds between history chunks (0: all at once).",
    )
    simulate_connect_delay: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="Simulate mode: seconds the simulated phone takes to connect and push its "
        "contacts and history, as a real one does (0: at once).",
    )
    channel: bool = Field(
        default=False,
        description="Push new messages into Claude Code as channel notifications.",
    )
    channel_chats: str = Field(
        default="contacts",
        description="Chats whose messages are pushed: comma-separated phones or JIDs, and "
        "`contacts` for every saved contact's direct chat.",
    )
    channel_per_minute: int = Field(
        default=10, ge=1, le=120, description="Channel notifications per minute, at most."
    )

    @field_validator("channel_chats")
    @classmethod
    def _channel_chats(cls, value: str) -> str:
        from bridge.control.channel_chats import parse_channel_chats

        parse_channel_chats(value)
        return value

    # issue 17
    import_roots: str = Field(
        default="",
        description="Folders chat exports may be imported from by the import_chat_export tool "
        "(os.pathsep-separated absolute paths); empty means <data dir>/imports.",
    )
    # issue 18: voice-note transcription, scheduled sends, digest.
    transcribe: Literal["off", "contacts", "all"] = Field(
        default="off",
        description="Transcribe incoming voice notes automatically (the audio goes to Google): "
        "off, contacts (saved contacts only) or all.",
    )
    transcribe_model: str = Field(
        default="gemini-2.5-flash", min_length=1, description="Gemini model for transcripts."
    )
    schedule_grace: float = Field(
        default=600.0,
        ge=0,
        description="Seconds a scheduled send may still go out late (bridge was down); "
        "later it is marked missed.",
    )
    timezone: str = Field(
        default="", description="The user's IANA time zone; empty means this machine's zone."
    )
    digest_wait_minutes: int = Field(
        default=10,
        ge=0,
        le=10080,
        description="A message counts as waiting for my answer once it is this old.",
    )


# name → (field, default shown in README). Booleans accept 1/true/yes/on.
ENV_VARS: dict[str, str] = {
    "WHATSAPP_MCP_DATA_DIR": "data_dir",
    "WHATSAPP_MCP_SIMULATE": "simulate",
    "WHATSAPP_MCP_SIMULATE_SEED": "simulate_seed",
    "WHATSAPP_MCP_SIMULATE_HISTORY": "simulate_history",
    "WHATSAPP_MCP_SIMULATE_REPLY_DELAY": "simulate_reply_delay",
    "WHATSAPP_MCP_BRIDGE_IDLE_EXIT": "bridge_idle_exit",
    "WHATSAPP_MCP_BRIDGE_START_TIMEOUT": "bridge_start_timeout",
    "WHATSAPP_MCP_CONTROL_TRANSPORT": "control_transport",
    "WHATSAPP_MCP_LOG_LEVEL": "log_level",
    "WHATSAPP_MCP_TOOLSETS": "toolsets",
    "WHATSAPP_MCP_READ_ONLY": "read_only",
    "WHATSAPP_MCP_SEND_POLICY": "send_policy",
    "WHATSAPP_MCP_ALLOWED_RECIPIENTS": "allowed_recipients",
    "WHATSAPP_MCP_BLOCKED_RECIPIENTS": "blocked_recipients",
    "WHATSAPP_MCP_SEND_PER_MINUTE": "send_per_minute",
    "WHATSAPP_MCP_SEND_PER_HOUR": "send_per_hour",
    "WHATSAPP_MCP_SEND_PER_DAY": "send_per_day",
    "WHATSAPP_MCP_SEND_MIN_INTERVAL": "send_min_interval",
    "WHATSAPP_MCP_AUTOREPLY_MODEL": "autoreply_model",
    "WHATSAPP_MCP_AUTOREPLY_HISTORY": "autoreply_history",
    "WHATSAPP_MCP_AUTOREPLY_HISTORY_CHARS": "autoreply_history_chars",
    "WHATSAPP_MCP_AUTOREPLY_DEBOUNCE": "autoreply_debounce",
    "WHATSAPP_MCP_AUTOREPLY_DELAY_MIN": "autoreply_delay_min",
    "WHATSAPP_MCP_AUTOREPLY_DELAY_MAX": "autoreply_delay_max",
    "WHATSAPP_MCP_AUTOREPLY_CHAT_CAP": "autoreply_chat_cap",
    "WHATSAPP_MCP_AUTOREPLY_GLOBAL_CAP": "autoreply_global_cap",
    "WHATSAPP_MCP_AUTOREPLY_TAKEOVER_PAUSE": "autoreply_takeover_pause",
    "WHATSAPP_MCP_AUTOREPLY_GEMINI_ATTEMPTS": "autoreply_gemini_attempts",
    "WHATSAPP_MCP_AUTOREPLY_RETRY_DELAY": "autoreply_retry_delay",
    "WHATSAPP_MCP_MEDIA_ROOTS": "media_roots",
    # issue 17
    "WHATSAPP_MCP_IMPORT_ROOTS": "import_roots",
    # issue 18
    "WHATSAPP_MCP_TRANSCRIBE": "transcribe",
    "WHATSAPP_MCP_TRANSCRIBE_MODEL": "transcribe_model",
    "WHATSAPP_MCP_SCHEDULE_GRACE": "schedule_grace",
    "WHATSAPP_MCP_TIMEZONE": "timezone",
    "WHATSAPP_MCP_DIGEST_WAIT_MINUTES": "digest_wait_minutes",
}
# issue 16
ENV_VARS.update(
    {
        "WHATSAPP_MCP_SIMULATE_HISTORY_CHUNK_DELAY": "simulate_history_chunk_delay",
        "WHATSAPP_MCP_SIMULATE_CONNECT_DELAY": "simulate_connect_delay",
        "WHATSAPP_MCP_CHANNEL": "channel",
        "WHATSAPP_MCP_CHANNEL_CHATS": "channel_chats",
        "WHATSAPP_MCP_CHANNEL_PER_MINUTE": "channel_per_minute",
    }
)
_BOOL_FIELDS = {"simulate", "read_only"}
_BOOL_FIELDS.add("channel")  # issue 16
# Read by google-genai itself in the bridge; documented in the README's settings table and passed
# to the spawned bridge with the rest of the MCP server's environment.
PASSTHROUGH_ENV_VARS: tuple[str, ...] = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def default_data_dir(simulate: bool) -> Path:
    base = Path(platformdirs.user_data_dir("whatsapp-mcp", appauthor=False))
    # The demo must never mix simulated chats into a real account's store.
    return base / "simulated" if simulate else base


def _parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r}: use 1 or 0.")


def _parse_toolsets(name: str, value: str) -> frozenset[str]:
    items = {part.strip().lower() for part in value.split(",") if part.strip()}
    if not items or items == {"all"}:
        return frozenset(TOOLSETS)
    unknown = items - set(TOOLSETS)
    if unknown:
        raise SettingsError(
            f"{name}={value!r}: unknown toolset(s) {sorted(unknown)}; "
            f"choose from {', '.join(TOOLSETS)}."
        )
    return frozenset(items)


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from `env` (default: os.environ); keyword overrides win (CLI flags)."""
    source = os.environ if env is None else env
    values: dict[str, object] = {}
    for name, field in ENV_VARS.items():
        if name in source:
            raw = source[name]
            if field in _BOOL_FIELDS:
                values[field] = _parse_bool(name, raw)
            elif field == "toolsets":
                values[field] = _parse_toolsets(name, raw)
            else:
                values[field] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "data_dir" not in values or values["data_dir"] in ("", None):
        values["data_dir"] = default_data_dir(bool(values.get("simulate", False)))
    values["data_dir"] = Path(str(values["data_dir"])).expanduser().absolute()
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_env_name(str(e['loc'][0]))}: {e['msg']}" for e in exc.errors() if e["loc"]
        )
        raise SettingsError(f"Invalid whatsapp-mcp settings: {problems}") from exc


def _env_name(field: str) -> str:
    for name, f in ENV_VARS.items():
        if f == field:
            return name
    return field


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that carries `settings` to a child process."""
    out: dict[str, str] = {}
    for name, field in ENV_VARS.items():
        value = getattr(settings, field)
        if isinstance(value, bool):
            out[name] = "1" if value else "0"
        elif isinstance(value, frozenset):
            out[name] = ",".join(t for t in TOOLSETS if t in value)
        else:
            out[name] = str(value)
    return out
