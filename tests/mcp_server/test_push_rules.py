"""Channel push rules that need no client: which chats are allowed, and the rate window."""

from __future__ import annotations

import pytest

from bridge.control.channel_chats import parse_channel_chats
from bridge.settings import SettingsError, load_settings
from mcp_server.push import RateWindow, channel_allows


def test_channel_chats_default_is_saved_contacts_only() -> None:
    parsed = parse_channel_chats("contacts")
    assert parsed.contacts and parsed.jids == frozenset()


def test_channel_chats_names_groups_and_numbers() -> None:
    parsed = parse_channel_chats("+1 555 123 4567; 120363000000000001@g.us")
    assert not parsed.contacts
    assert parsed.jids == {"15551234567@s.whatsapp.net", "120363000000000001@g.us"}


def test_a_bad_channel_chat_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="WHATSAPP_MCP_CHANNEL_CHATS.*'friends'"):
        load_settings({"WHATSAPP_MCP_DATA_DIR": "/tmp/x", "WHATSAPP_MCP_CHANNEL_CHATS": "friends"})


def test_rate_window_allows_per_minute_then_frees_up() -> None:
    rate = RateWindow(2)
    assert rate.allow(0.0) and rate.allow(1.0)
    assert not rate.allow(30.0)
    assert rate.allow(60.0)  # the first one left the window
    assert not rate.allow(60.5)
    assert rate.allow(61.0)


def test_channel_allows_saved_contacts_and_named_chats_only() -> None:
    default = parse_channel_chats("contacts")
    alice, group = "15551234567@s.whatsapp.net", "120363000000000001@g.us"
    assert channel_allows(default, alice, saved=True)
    assert not channel_allows(default, alice, saved=False)  # a stranger
    assert not channel_allows(default, group, saved=True)  # groups only when named
    named = parse_channel_chats(f"{group}, +15550001234")
    assert channel_allows(named, group, saved=False)
    assert channel_allows(named, "15550001234@s.whatsapp.net", saved=False)
    assert not channel_allows(named, alice, saved=True)  # `contacts` was not listed
