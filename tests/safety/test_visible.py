"""The content checks measure text as a person sees it (bridge/send/visible.py).

Three kinds of evidence: each hidden-payload layout of issue 13 is refused (in a message, a
caption and a reply quote, through the real Sender and gate under SEND_POLICY=any); a corpus of
real multilingual messages and emoji sequences passes; and Hypothesis compares the checks with a
separate model of the rendered text built from the standard library's Unicode tables.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bridge.control.models import ReactRequest, SendTextRequest
from bridge.send.media_files import OutgoingFile
from bridge.send.policy import fanout_key
from bridge.send.ratelimit import RateLimits
from bridge.send.sender import SendRefused
from bridge.send.visible import (
    MAX_COMBINING_MARKS,
    MAX_EXTRA_WHITESPACE,
    MAX_LINE_BREAKS,
    MAX_LINE_BREAKS_IN_RUN,
    MAX_WHITESPACE_RUN,
    check_reaction,
    check_visible,
)
from bridge.transport.protocol import OutboundText
from bridge.transport.simulated.network import SimulatedTransport
from store.db import open_writer
from store.models import MessageKind, MessageRecord
from store.writer import StoreWriter
from tests.safety.world import SAVED, STRANGER, SimClock, open_stack

CORPUS: list[str] = json.loads(
    (Path(__file__).parent / "data" / "visible_corpus.json").read_text(encoding="utf-8")
)
SECRET = "Maria: the door code is 4711, keys under the mat"


REFUSED = ("hidden_characters", "stacked_marks", "whitespace_padding")


def tags(ascii_text: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in ascii_text)


def as_variation_selectors(data: bytes) -> str:
    """Bytes as variation selectors (VS1–VS256), the "emoji smuggling" encoding."""
    return "".join(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in data)


# Each layout the issue lists: what the approval dialog shows is short; the payload is not.
LAYOUTS: dict[str, str] = {
    "spaces alternating with ZWJ": "Sure!" + " \u200d" * 300 + SECRET,
    "lines of newline + zero-width": "ok" + "\n\u200b" * 300 + SECRET,
    "lines of newline + word joiner": "ok" + "\n\u2060" * 200 + SECRET,
    "bytes as variation selectors after one emoji": "👍" + as_variation_selectors(SECRET.encode()),
    "ASCII as tag characters after the black flag": "🏴" + tags(SECRET) + "\U000e007f",
    "tag characters alone": "see you" + tags(SECRET),
    "deprecated format characters U+206A–F": "ok" + "".join(chr(c) for c in range(0x206A, 0x2070)),
    "interlinear annotation U+FFF9–B": "ok\ufff9" + SECRET + "\ufffa\ufffb",
    "musical format controls U+1D173…": "ok" + "\U0001d173\U0001d174" * 20,
    "stacked combining marks": "ok" + "e" + "\u0301\u0300\u0302\u0303" * 10,
    "private use": "ok\ue000\ue001",
    "soft hyphens": "o\u00adk" * 3,
    "bidi override": "ok \u202etxt.exe",
    "hangul filler padding": "ok" + "\u3164" * 40 + SECRET,
}


def rendered_model(text: str) -> str:
    """What a screen shows, from the stdlib's tables (independent of the regex-based checks):
    drop what Unicode defines as default-ignorable and every format character."""
    out = []
    for ch in text:
        cp = ord(ch)
        cat = unicodedata.category(ch)
        ignorable = (
            cat == "Cf"
            or 0xFE00 <= cp <= 0xFE0F
            or 0xE0100 <= cp <= 0xE01EF
            or 0x180B <= cp <= 0x180F
            or cp in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)
            or 0xE0000 <= cp <= 0xE0FFF
            or 0x2060 <= cp <= 0x206F
        )
        if not ignorable:
            out.append(ch)
    return "".join(out)


def model_limits_hold(text: str) -> None:
    """The rendered text hides nothing beyond the limits."""
    shown = rendered_model(text)
    hidden = len(text) - len(shown)
    # Hidden code points stay attached to what is shown: at most 6 per visible character (the
    # Wales flag: 🏴 + 5 tags + cancel tag) and never more than 6 in a row.
    assert hidden <= 6 * max(1, len(shown)), text
    run = 0
    for ch in text:
        run = run + 1 if rendered_model(ch) == "" else 0
        assert run <= 6, text
    blank_line = 0
    breaks_in_row = 0
    for ch in shown:
        if ch in "\n\r\x0b\x0c\x85\u2028\u2029":
            breaks_in_row += 1
            blank_line = 0
        elif ch.isspace() or ch == "\u2800":
            blank_line += 1
        else:
            blank_line = breaks_in_row = 0
        assert blank_line <= MAX_WHITESPACE_RUN, text
        assert breaks_in_row <= MAX_LINE_BREAKS_IN_RUN + 1, text  # CR LF counts once
    assert shown.count("\n") <= MAX_LINE_BREAKS, text
    marks = 0
    for ch in shown:
        marks = marks + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        assert marks <= MAX_COMBINING_MARKS, text
    assert all(unicodedata.category(ch) not in ("Co", "Cs") for ch in text), text


# ---------------------------------------------------------------------------- the corpus


def test_the_corpus_has_two_hundred_real_messages_and_every_one_passes() -> None:
    assert len(CORPUS) >= 200
    refused = {t: r.message for t in CORPUS if (r := check_visible(t)) is not None}
    assert refused == {}
    for text in CORPUS:
        assert check_visible(text, what="caption") is None
        model_limits_hold(text)


def test_the_corpus_covers_the_scripts_and_sequences_that_need_joiners() -> None:
    joined = "".join(CORPUS)
    assert "\u200c" in joined and "\u200d" in joined and "\ufe0f" in joined
    for flag in ("gbeng", "gbsct", "gbwls"):
        assert "🏴" + tags(flag) + "\U000e007f" in joined
    for sample in ("नमस्ते", "مرحبا", "می‌خواهم", "ශ්‍රී", "👨‍👩‍👧‍👦", "🇮🇳"):
        assert sample in joined


def test_emoji_newer_than_this_pythons_unicode_tables_pass() -> None:
    # U+1FAE8 SHAKING FACE is Unicode 15; Python 3.11's unicodedata calls it unassigned.
    assert check_visible("\U0001fae8 wow") is None
    assert check_reaction("\U0001fae8") is None


# ---------------------------------------------------------------------------- the layouts


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_hidden_payload_layout_is_refused(layout: str) -> None:
    got = check_visible(LAYOUTS[layout])
    assert got is not None and got.code in ("hidden_characters", "stacked_marks"), layout
    assert "No setting allows this" in got.message


def test_invisible_characters_do_not_split_a_whitespace_run() -> None:
    # Refused already for the joiner, and still refused when only the spacing is looked at.
    got = check_visible("a" + " \u200d" * 7 + "b")
    assert got is not None and got.code == "hidden_characters"
    assert check_visible("a" + " " * (MAX_WHITESPACE_RUN + 1) + "b") is not None
    assert check_visible("a\n" + " " * MAX_WHITESPACE_RUN + "b") is None  # indented code


def test_one_invisible_character_does_not_defeat_the_fan_out_rule() -> None:
    assert fanout_key("Join my group!") == fanout_key("join  my group!")
    assert fanout_key("Join my group!") == fanout_key("Join\u2060 my group!")
    assert fanout_key("Join my group!") == fanout_key("Join my gr\u200boup!")
    assert fanout_key("Join my group!") != fanout_key("Join my group?")


@pytest.mark.parametrize(
    ("emoji", "ok"),
    [
        ("👍", True),
        ("❤️", True),
        ("👍🏽", True),
        ("1️⃣", True),
        ("🇬🇧", True),
        ("🏴󠁧󠁢󠁷󠁬󠁳󠁿", True),
        ("👨‍👩‍👧‍👦", True),
        ("a", False),
        ("1", False),
        ("👍👍", False),
        ("ok 👍", False),
        ("👍" + "\U000e0100", False),
        ("🏴" + "\U000e0041\U000e007f", False),
    ],
)
def test_a_reaction_is_exactly_one_emoji_grapheme(emoji: str, ok: bool) -> None:
    assert (check_reaction(emoji) is None) is ok


# ---------------------------------------------------------------------------- through the sender


@pytest.mark.anyio
async def test_layouts_are_refused_in_text_caption_and_reply_quote_under_policy_any(
    db: Path, transport: SimulatedTransport, tmp_path: Path
) -> None:
    # The stranger's messages carry each layout; a reply to one would re-send it as a quote.
    conn = open_writer(db)
    writer = StoreWriter(conn)
    t = datetime(2026, 1, 2, tzinfo=UTC)
    for i, payload in enumerate(LAYOUTS.values()):
        writer.ingest_message(
            MessageRecord(
                id=f"BAIT{i}", chat_jid=STRANGER, sender=STRANGER, content=payload, timestamp=t
            )
        )
    conn.close()
    loose = RateLimits(per_minute=100, per_hour=1000, per_day=1000, min_interval=0)
    stack = open_stack(db, transport, SimClock(), policy="any", limits=loose)
    quoted_layouts: set[str] = set()
    try:
        picture = OutgoingFile(
            path=tmp_path / "p.png",
            data=b"\x89PNG\r\n\x1a\n" + b"0" * 32,
            kind=MessageKind.image,
            mime_type="image/png",
            filename="p.png",
        )
        for i, (layout, payload) in enumerate(LAYOUTS.items()):
            with pytest.raises(SendRefused) as info:
                await stack.sender.send_text(SendTextRequest(to=STRANGER, text=payload))
            assert info.value.code in REFUSED, layout
            with pytest.raises(SendRefused) as info:
                await stack.sender.send_media(STRANGER, picture, caption=payload)
            assert info.value.code in REFUSED, layout
            reply = SendTextRequest(to=STRANGER, text="Agreed.", reply_to=f"BAIT{i}")
            try:
                await stack.sender.send_text(reply)
            except SendRefused as exc:
                assert exc.code in REFUSED, layout
                assert "quoted message" in str(exc) and "reply_to" in str(exc)
                continue
            # A stored quote comes back with bidi, zero-width and stray tag characters removed
            # (store/text.py): a reply may go out only when nothing hidden is left in it.
            sent = transport.sent.pop()
            assert isinstance(sent, OutboundText) and sent.reply_to_text is not None
            assert rendered_model(sent.reply_to_text) == sent.reply_to_text, layout
            assert check_visible(sent.reply_to_text) is None, layout
            quoted_layouts.add(layout)
        # Every layout is refused as a quote too: the raw one, or the one display cleaning flagged.
        assert quoted_layouts == set(), quoted_layouts
        assert transport.sent == []
        # The same stranger, the same stack: plain text, a caption and an emoji go through.
        await stack.sender.send_text(SendTextRequest(to=STRANGER, text="Who is this? 🤔"))
        await stack.sender.send_media(STRANGER, picture, caption="می‌خواهم 👨‍👩‍👧")
        assert len(transport.sent) == 2
        with pytest.raises(SendRefused) as info:
            await stack.sender.send_reaction(
                ReactRequest(chat=STRANGER, message_id="BAIT0", emoji="ok")
            )
        assert info.value.code == "not_an_emoji"
        await stack.sender.send_reaction(ReactRequest(chat=SAVED, message_id="OUT1", emoji="👍"))
    finally:
        stack.close()


# ---------------------------------------------------------------------------- properties

# An alphabet dense in what hides things: joiners, selectors, tags, format characters, marks,
# blanks and line breaks, next to letters of joining scripts and emoji they may attach to.
_TRICKY = (
    list("ab ,.\n\t\r")
    + ["\u00a0", "\u3000", "\u2800", "\u2028"]
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\u2062", "\u206a", "\ufeff", "\u00ad", "\u034f"]
    + ["\u202e", "\u2066", "\u061c", "\ufff9", "\U0001d173", "\u180e", "\u3164", "\u115f"]
    + ["\ufe0e", "\ufe0f", "\ufe00", "\U000e0100", "\U000e01ef"]
    + [chr(c) for c in (0xE0001, 0xE0020, 0xE0041, 0xE0067, 0xE0062, 0xE0065, 0xE006E, 0xE007F)]
    + ["\u0301", "\u0300", "\u064e", "\u094d", "\u0d4d", "\u20e3"]
    + ["म", "क", "ی", "خ", "ن", "ශ", "ර", "👍", "❤", "🔥", "👨", "👩", "🏴", "🏳", "🇬", "🇧"]
    + ["\U0001f3fd", "1", "#", "\ue000", "\U000f0000"]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from(_TRICKY), min_size=1, max_size=120))
def test_nothing_accepted_hides_more_than_the_limits(text: str) -> None:
    if check_visible(text) is None:
        model_limits_hold(text)


@settings(max_examples=600, deadline=None)
@given(
    base=st.sampled_from(CORPUS),
    at=st.integers(0, 400),
    payload=st.text(
        alphabet=st.sampled_from([ch for ch in _TRICKY if rendered_model(ch) == ""]),
        min_size=3,
        max_size=40,
    ),
)
def test_a_run_of_three_or_more_invisibles_in_real_text_is_refused(
    base: str, at: int, payload: str
) -> None:
    assume(payload not in ("\U000e007f",))
    text = base[:at] + payload + base[at:]
    # Legitimate runs of three invisible characters exist only inside a subdivision flag.
    assume(not any(f in text and f not in base for f in ("\U000e0067\U000e0062",)))
    got = check_visible(text)
    assert got is not None, (base, payload)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(CORPUS),
    spaces=st.integers(MAX_WHITESPACE_RUN + 1, 400),
    breaks=st.integers(0, 3),
)
def test_padding_stays_refused_whatever_invisible_glue_is_added(
    base: str, spaces: int, breaks: int
) -> None:
    padded = base + ("\n" * breaks) + " " * spaces + SECRET
    assert check_visible(padded) is not None
    many = base + " ".join(["x  y"] * (MAX_EXTRA_WHITESPACE + 1))
    assert check_visible(many) is not None


def test_the_model_and_this_pythons_tables_agree_on_the_alphabet() -> None:
    # The model is built from stdlib tables; it must know every character the tests use.
    assert sys.version_info >= (3, 10)
    for ch in _TRICKY:
        if ord(ch) < 0xF0000 and ch != "\ue000":
            assert unicodedata.category(ch) != "Cn", hex(ord(ch))
