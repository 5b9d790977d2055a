"""Property: whatever sequence of sends, clock jumps and bridge restarts happens, nothing is sent
outside the policy, no rate window or spacing is exceeded, the same text never reaches more than
three chats in 24 h, and every attempt is in the audit log with its true outcome.

Each example runs the real Sender and gate over a real SQLite file, with SimulatedTransport as
WhatsApp; a restart tears the whole stack down and rebuilds it from the same file."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bridge.control.models import SendTextRequest
from bridge.send.policy import check_content, fanout_key
from bridge.send.ratelimit import RateLimits
from bridge.send.sender import SendRefused
from bridge.transport.simulated.network import SimulatedTransport
from tests.safety.world import ADDRESS_FORMS, SimClock, expected_allowed, open_stack, seed_store

CHATS = sorted(ADDRESS_FORMS)
TEXTS = [
    "See you at 7",
    "see  you at 7",  # the same text for the fan-out rule
    "Lunch tomorrow?",
    "Here is the chat you asked for" + " " * 300 + "SECRET",
    "hidden\u202epayload",
    "tag\U000e0041\U000e0042 smuggling",
    "line\n\n\n\n\n\nbreaks",
]


@dataclass(frozen=True)
class Send:
    chat: str
    form: int
    text: int
    origin: str


@dataclass(frozen=True)
class Advance:
    seconds: float


@dataclass(frozen=True)
class Restart:
    pass


steps = st.lists(
    st.one_of(
        # Sends dominate, mostly of clean text, so windows and the fan-out rule fill up.
        st.builds(
            Send,
            chat=st.sampled_from(CHATS),
            form=st.integers(0, 3),
            text=st.sampled_from([0, 0, 1, 2, 2, 3, 4, 5, 6]),
            origin=st.sampled_from(["tool", "cli", "auto_reply"]),
        ),
        st.builds(
            Send,
            chat=st.sampled_from(CHATS),
            form=st.integers(0, 3),
            text=st.sampled_from([0, 1, 2]),
            origin=st.just("tool"),
        ),
        st.builds(Advance, seconds=st.sampled_from([0.5, 3.0, 20.0, 61.0, 3601.0, 86_401.0])),
        st.just(Restart()),
    ),
    min_size=15,
    max_size=60,
)


@st.composite
def limit_sets(draw: st.DrawFn) -> RateLimits:
    per_minute = draw(st.integers(1, 4))
    per_hour = draw(st.integers(per_minute, 8))
    per_day = draw(st.integers(per_hour, 12))
    return RateLimits(
        per_minute=per_minute,
        per_hour=per_hour,
        per_day=per_day,
        min_interval=draw(st.sampled_from([0.0, 1.0, 8.0, 30.0])),
        max_wait=20.0,
    )


async def run(
    path: Path, policy: str, limits: RateLimits, read_only: bool, plan: list[object]
) -> tuple[int, SimulatedTransport]:
    """Play the plan; returns how many attempts reached the gate, and the transport."""
    clock = SimClock()
    transport = SimulatedTransport(reply_delay=10_000)
    await transport.start()
    rng = random.Random(0)

    def stack():  # noqa: ANN202 - local factory
        return open_stack(
            path, transport, clock, policy=policy, limits=limits, read_only=read_only, rng=rng
        )

    current = stack()
    attempts = 0
    try:
        for step in plan:
            if isinstance(step, Advance):
                clock.t += step.seconds
            elif isinstance(step, Restart):
                current.close()
                current = stack()
            elif isinstance(step, Send):
                forms = ADDRESS_FORMS[step.chat]
                req = SendTextRequest(
                    to=forms[step.form % len(forms)],
                    text=TEXTS[step.text],
                    origin=step.origin,  # type: ignore[arg-type]
                )
                attempts += 1
                before = len(transport.sent)
                try:
                    sent = await current.sender.send_text(req)
                except SendRefused:
                    assert len(transport.sent) == before
                else:
                    assert sent.chat_jid == step.chat
                    assert len(transport.sent) == before + 1
    finally:
        current.close()
        await transport.stop()
    return attempts, transport


def audit_rows(path: Path) -> list[tuple[int, str, str, str | None, str, str | None, int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT at, origin, recipient, fanout_key, outcome, reason, spacing_ms, kind "
            "FROM send_log ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    policy=st.sampled_from(["contacts", "known", "any"]),
    limits=limit_sets(),
    read_only=st.sampled_from([False, False, False, True]),
    plan=steps,
)
def test_no_send_outside_policy_or_limits_and_every_attempt_is_audited(
    policy: str, limits: RateLimits, read_only: bool, plan: list[object]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.db"
        seed_store(path)
        attempts, transport = asyncio.run(run(path, policy, limits, read_only, plan))
        rows = audit_rows(path)

    # Every attempt is in the log, and the log's "sent" rows are exactly what reached WhatsApp.
    assert len(rows) == attempts
    sent = [r for r in rows if r[4] == "sent"]
    assert len(sent) == len(transport.sent)
    assert [r[2] for r in sent] == [m.chat_jid for m in transport.sent]
    assert all(r[5] for r in rows if r[4] == "refused")
    for r in rows:  # what the examples covered (pytest --hypothesis-show-statistics)
        event(r[4] if r[4] != "refused" else f"refused {str(r[5]).split(':')[0]}")
    assert all(r[7] == "text" and r[1] in ("tool", "cli", "auto_reply") for r in rows)
    if read_only:
        assert not transport.sent

    # Nothing outside the policy, and no hidden payload under any policy.
    for message in transport.sent:
        assert expected_allowed(policy, message.chat_jid), (policy, message.chat_jid)
        assert check_content(message.text) is None, message.text

    # No window exceeded, at any moment.
    times = [r[0] for r in sent]
    for i, t in enumerate(times):
        for span, limit in ((60_000, limits.per_minute), (3_600_000, limits.per_hour)):
            assert sum(1 for u in times[: i + 1] if u > t - span) <= limit
        assert sum(1 for u in times[: i + 1] if u > t - 86_400_000) <= limits.per_day
    # Jittered spacing: each send waits at least the gap drawn after the previous one.
    for prev, nxt in zip(sent, sent[1:], strict=False):
        assert nxt[0] - prev[0] >= prev[6] >= int(limits.min_interval * 500) - 1
    # The same text reaches at most 3 distinct chats in any 24 h.
    for i, row in enumerate(sent):
        window = {r[2] for r in sent[: i + 1] if r[3] == row[3] and r[0] > row[0] - 86_400_000}
        assert len(window) <= 3, window


def test_fanout_key_ignores_case_and_spacing_only() -> None:
    assert fanout_key("See  you at 7") == fanout_key("see you at 7")
    assert fanout_key("see you at 7") != fanout_key("see you at 8")
