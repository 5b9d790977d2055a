"""The gate's rules one by one, over a real store file: recipient forms, refusals that name the
setting that would allow the send and the time it becomes possible, content checks, caps."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.control.models import SendTextRequest
from bridge.send.policy import MAX_TEXT_LENGTH, check_content
from bridge.send.ratelimit import RateLimits
from bridge.send.sender import OutboundAction, SendRefused
from bridge.settings import SettingsError, load_settings
from bridge.transport.simulated.network import SimulatedTransport
from store.audit import SendLogStore
from tests.safety.world import (
    ADDRESS_FORMS,
    BLOCKED,
    GROUP,
    SAVED,
    STRANGER,
    WROTE,
    SimClock,
    Stack,
    expected_allowed,
    open_stack,
)

pytestmark = pytest.mark.anyio


def stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def refusal(stack: Stack, to: str, text: str) -> SendRefused:
    with pytest.raises(SendRefused) as info:
        await stack.sender.send_text(SendTextRequest(to=to, text=text))
    return info.value


@pytest.mark.parametrize("policy", ["contacts", "known", "any"])
async def test_policy_decides_on_every_address_form_of_a_person(
    db: Path, transport: SimulatedTransport, policy: str
) -> None:
    stack = open_stack(db, transport, SimClock(), policy=policy, limits=RateLimits(min_interval=0))
    try:
        for chat, forms in ADDRESS_FORMS.items():
            for form in forms:
                jid = await stack.sender.resolve(form)
                assert jid == chat, form
                action = OutboundAction(kind="text", chat_jid=jid, origin="tool", text="hi")
                got = await stack.gate.check(action)
                assert (got is None) == expected_allowed(policy, chat), (policy, form, got)
    finally:
        stack.close()


async def test_refusals_say_why_and_which_setting_would_allow_it(
    db: Path, transport: SimulatedTransport
) -> None:
    stack = open_stack(db, transport, SimClock(), limits=RateLimits(min_interval=0))
    try:
        stranger = await refusal(stack, STRANGER, "hello")
        assert stranger.code == "recipient_not_allowed"
        text = str(stranger)
        assert "not a saved contact" in text and "WHATSAPP_MCP_ALLOWED_RECIPIENTS" in text
        assert "WHATSAPP_MCP_SEND_POLICY=known" in text
        blocked = await refusal(stack, "+15551110005", "hello")  # blocked by its @lid form
        assert blocked.code == "recipient_blocked" and BLOCKED in str(blocked)
        assert "WHATSAPP_MCP_BLOCKED_RECIPIENTS" in str(blocked)
        status = await refusal(stack, "status@broadcast", "hello")
        assert status.code == "recipient_not_allowed"
        assert not transport.sent
    finally:
        stack.close()
    ro = open_stack(db, transport, SimClock(), read_only=True)
    try:
        refused = await refusal(ro, SAVED, "hello")
        assert refused.code == "read_only" and "WHATSAPP_MCP_READ_ONLY=0" in str(refused)
    finally:
        ro.close()


async def test_rate_window_refusal_names_the_time_sending_is_possible_again(
    db: Path, transport: SimulatedTransport
) -> None:
    clock = SimClock(1_800_000_000.0)
    limits = RateLimits(per_minute=2, min_interval=0)
    stack = open_stack(db, transport, clock, limits=limits)
    try:
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="one"))
        clock.t += 10
        await stack.sender.send_text(SendTextRequest(to=GROUP, text="two"))
        clock.t += 5
        refused = await refusal(stack, SAVED, "three")
        assert refused.code == "rate_limited" and "WHATSAPP_MCP_SEND_PER_MINUTE" in str(refused)
        assert stamp(1_800_000_060.0) in str(refused), str(refused)
        # A restart does not forget: the window is read back from the store.
        stack.close()
        stack = open_stack(db, transport, clock, limits=limits)
        clock.t = 1_800_000_059.9
        assert (await refusal(stack, SAVED, "three")).code == "rate_limited"
        clock.t = 1_800_000_060.0
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="three"))
        assert [m.text for m in transport.sent] == ["one", "two", "three"]
    finally:
        stack.close()


async def test_same_text_to_a_fourth_chat_in_a_day_is_refused_until_the_first_ages_out(
    db: Path, transport: SimulatedTransport
) -> None:
    clock = SimClock(1_800_000_000.0)
    stack = open_stack(db, transport, clock, policy="any", limits=RateLimits(min_interval=0))
    try:
        for i, to in enumerate((SAVED, GROUP, WROTE)):
            clock.t = 1_800_000_000.0 + 100 * i
            await stack.sender.send_text(SendTextRequest(to=to, text="Join my group!"))
        clock.t += 100
        refused = await refusal(stack, STRANGER, "join my  GROUP!")
        assert refused.code == "duplicate_text"
        assert stamp(1_800_000_000.0 + 86_400) in str(refused), str(refused)
        # The same chat again is not fan-out; other text is fine.
        await stack.sender.send_text(SendTextRequest(to=WROTE, text="Join my group!"))
        await stack.sender.send_text(SendTextRequest(to=STRANGER, text="Something else"))
        clock.t = 1_800_000_000.0 + 86_400
        await stack.sender.send_text(SendTextRequest(to=STRANGER, text="Join my group!"))
    finally:
        stack.close()


async def test_spacing_waits_with_jitter_or_refuses_when_the_queue_is_too_long(
    db: Path, transport: SimulatedTransport
) -> None:
    clock = SimClock(1_800_000_000.0)
    stack = open_stack(db, transport, clock, limits=RateLimits(min_interval=8, per_minute=3))
    try:
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="a"))
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="b"))
        waited = clock.t - 1_800_000_000.0
        assert 4.0 <= waited <= 12.0  # 8 s ± 50 %
    finally:
        stack.close()
    slow = open_stack(db, transport, clock, limits=RateLimits(min_interval=60, jitter=0))
    try:
        clock.t += 60
        await slow.sender.send_text(SendTextRequest(to=SAVED, text="c"))
        refused = await refusal(slow, SAVED, "d")
        assert refused.code == "rate_limited"
        assert "WHATSAPP_MCP_SEND_MIN_INTERVAL" in str(refused) and stamp(clock.t + 60) in str(
            refused
        )
    finally:
        slow.close()


async def test_every_outcome_is_audited_including_transport_failures(
    db: Path, transport: SimulatedTransport
) -> None:
    stack = open_stack(db, transport, SimClock(), limits=RateLimits(min_interval=0))
    try:
        await stack.sender.send_text(SendTextRequest(to=SAVED, text="fine", origin="cli"))
        await refusal(stack, STRANGER, "nope")
        await transport.stop()  # WhatsApp goes away: the send fails, and is logged as failed
        with pytest.raises(Exception, match="connect"):
            await stack.sender.send_text(SendTextRequest(to=SAVED, text="later"))
    finally:
        stack.close()
    log = SendLogStore.open(db)
    try:
        rows = log._conn.execute(  # pyright: ignore[reportPrivateUsage]
            "SELECT origin, recipient, outcome, text_length, text_sha256 FROM send_log ORDER BY id"
        ).fetchall()
    finally:
        log.close()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("cli", SAVED, "sent", 4),
        ("tool", STRANGER, "refused", 4),
        ("tool", SAVED, "failed", 5),
    ]
    assert all(len(r[4]) == 64 for r in rows)


async def test_read_receipts_skip_the_recipient_policy_but_typing_does_not(
    db: Path, transport: SimulatedTransport
) -> None:
    stack = open_stack(db, transport, SimClock())
    try:
        read = OutboundAction(kind="mark_read", chat_jid=STRANGER, origin="tool")
        assert await stack.gate.check(read) is None
        typing = OutboundAction(kind="typing", chat_jid=STRANGER, origin="auto_reply")
        assert (await stack.gate.check(typing)) is not None
        unreact = OutboundAction(kind="reaction", chat_jid=SAVED, origin="tool", text="")
        assert await stack.gate.check(unreact) is None
    finally:
        stack.close()


# ---------------------------------------------------------------------------- content checks

HIDDEN = ["\u200b", "\u202e", "\u2066", "\u2069", "\ufeff", "\U000e0041", "\u00ad", "\x1b"]
clean_text = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + ".,!?'-é漢😀") + [" "]),
    min_size=1,
    max_size=200,
).filter(lambda t: t.strip() != "")


@settings(max_examples=300, deadline=None)
@given(text=clean_text)
def test_plain_text_passes_the_content_checks(text: str) -> None:
    assert check_content(" ".join(text.split()) or "x") is None


@settings(max_examples=300, deadline=None)
@given(text=clean_text, at=st.integers(0, 200), ch=st.sampled_from(HIDDEN))
def test_any_invisible_bidi_tag_or_control_character_is_refused(
    text: str, at: int, ch: str
) -> None:
    got = check_content(text[:at] + ch + text[at:])
    assert got is not None and got.code == "hidden_characters"


@settings(max_examples=300, deadline=None)
@given(
    text=clean_text,
    at=st.integers(0, 200),
    run=st.text(alphabet=" \t\u00a0\u3000\u2800\u3164", min_size=13, max_size=400),
)
def test_long_whitespace_runs_are_refused_whatever_the_space_characters(
    text: str, at: int, run: str
) -> None:
    got = check_content(text[:at] + run + "secret" + text[at:])
    assert got is not None and got.code in ("whitespace_padding", "hidden_characters")


def test_ordinary_formatting_emoji_sequences_and_flags_pass() -> None:
    assert check_content("Hi!\n\nList:\n- one\n- two\n\nThanks") is None
    assert check_content("👨‍👩‍👧 family, 🏴󠁧󠁢󠁥󠁮󠁧󠁿 England, مرحبا") is None
    assert check_content("x" * MAX_TEXT_LENGTH) is None
    assert check_content("x" * (MAX_TEXT_LENGTH + 1)).code == "text_too_long"  # type: ignore[union-attr]
    many = " ".join(["a  b"] * 250)  # 250 double spaces: padding spread thin
    assert check_content(many).code == "whitespace_padding"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- settings


def test_loosened_limits_are_capped_on_a_real_account_but_not_in_simulate_mode(
    tmp_path: Path,
) -> None:
    loose = {
        "WHATSAPP_MCP_DATA_DIR": str(tmp_path),
        "WHATSAPP_MCP_SEND_PER_MINUTE": "100",
        "WHATSAPP_MCP_SEND_PER_HOUR": "2",
        "WHATSAPP_MCP_SEND_MIN_INTERVAL": "0",
    }
    real = RateLimits.from_settings(load_settings(env=loose))
    assert (real.per_minute, real.per_hour, real.per_day, real.min_interval) == (3, 2, 100, 8.0)
    sim = RateLimits.from_settings(load_settings(env={**loose, "WHATSAPP_MCP_SIMULATE": "1"}))
    assert (sim.per_minute, sim.per_hour, sim.min_interval) == (100, 2, 0.0)
    assert load_settings(env={"WHATSAPP_MCP_DATA_DIR": str(tmp_path)}).send_policy == "contacts"


def test_a_bad_recipient_list_is_a_clear_settings_error(tmp_path: Path) -> None:
    env = {"WHATSAPP_MCP_DATA_DIR": str(tmp_path), "WHATSAPP_MCP_ALLOWED_RECIPIENTS": "+1555, Bob"}
    with pytest.raises(SettingsError, match="WHATSAPP_MCP_ALLOWED_RECIPIENTS"):
        load_settings(env=env)
    ok = load_settings(env={**env, "WHATSAPP_MCP_ALLOWED_RECIPIENTS": "+44 7700 900123; 12345@lid"})
    assert ok.allowed_recipients
