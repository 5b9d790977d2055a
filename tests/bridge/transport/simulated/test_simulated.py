"""SimulatedTransport and the seeded network: contract, determinism, peers, injection, history."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from datetime import UTC, datetime

import anyio
import pytest

from bridge.transport.protocol import (
    ConnectionEvent,
    ConnectionState,
    ContactsEvent,
    GroupEvent,
    HistoryEvent,
    MessageEvent,
    NotConnected,
    OutboundMedia,
    OutboundText,
    PairingEvent,
    ReactionEvent,
    ReceiptEvent,
    Transport,
    TransportError,
    TransportEvent,
)
from bridge.transport.simulated.network import MAX_ANSWERS_PER_PEER, SimulatedTransport
from bridge.transport.simulated.seed import (
    FAMILY_GROUP,
    FOOTBALL_GROUP,
    build_world,
    synthetic_chat_count,
    synthetic_history,
)
from store.errors import InvalidArgument
from store.models import MessageKind, ReceiptKind
from store.sync_state import SIMULATED_SEED
from tests.helpers import eventually_async

NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
MARIA = "15550100143@s.whatsapp.net"
SOFIA = "447700900396@s.whatsapp.net"
SOFIA_LID = "204882345678901@lid"


def make(**kw: object) -> SimulatedTransport:
    return SimulatedTransport(clock=lambda: NOW, reply_delay=0.05, **kw)  # type: ignore[arg-type]


async def take_until(
    t: SimulatedTransport, stop: type[TransportEvent] | None = None, *, count: int = 10_000
) -> list[TransportEvent]:
    """Events up to and including the first `stop`-typed one (or `count` events)."""
    out: list[TransportEvent] = []
    with anyio.fail_after(5):
        async for event in t.events():
            out.append(event)
            if (stop is not None and isinstance(event, stop)) or len(out) >= count:
                return out
    return out


def world_event_count(t: SimulatedTransport) -> int:
    """Events of a first login: 2 connection states, contacts, 2 groups, history, reactions,
    and the empty chunk that says the seeded world is all sent."""
    return 6 + len(t.world.history_batches(t.SEED_BATCH_SIZE)) + len(t.world.reactions)


async def drain_world(t: SimulatedTransport) -> list[TransportEvent]:
    return await take_until(t, count=world_event_count(t))


# ------------------------------------------------------------------ seeded world


def test_conforms_to_transport_protocol() -> None:
    t = make()
    assert isinstance(t, Transport)
    assert t.name == "simulated"
    assert t.is_paired() and t.state is ConnectionState.disconnected


def test_world_has_the_promised_shape() -> None:
    w = build_world(seed=7, now=NOW)
    assert len(w.contacts) >= 8
    assert sum(c.saved_name is None for c in w.contacts) >= 2  # push-name-only people
    assert any(c.lid for c in w.contacts)
    assert {g.jid for g in w.groups} == {FAMILY_GROUP, FOOTBALL_GROUP}
    family = next(g for g in w.groups if g.jid == FAMILY_GROUP)
    me = next(p for p in family.participants or [] if p.jid == w.account_jid)
    assert me.is_admin
    assert 250 <= len(w.messages) <= 400
    assert all(NOW.timestamp() - m.timestamp.timestamp() < 31 * 86400 for m in w.messages)
    assert all(m.timestamp <= NOW for m in w.messages)
    kinds = Counter(m.kind for m in w.messages)
    assert kinds[MessageKind.image] >= 3
    assert kinds[MessageKind.document] == 1 and kinds[MessageKind.voice] == 1
    voice = next(m for m in w.messages if m.kind is MessageKind.voice)
    assert voice.media and voice.media.seconds and voice.media.mime_type
    doc = next(m for m in w.messages if m.kind is MessageKind.document)
    assert doc.media and doc.media.filename and doc.media.filename.endswith(".pdf")
    media = [m for m in w.messages if m.media]
    assert all(m.media and m.media.file_size == len(w.media[m.id]) for m in media)
    assert any(m.reply_to_id for m in w.messages) and any(m.is_from_me for m in w.messages)
    assert w.reactions and any(c.unread_count for c in w.chats)
    assert all(m.id.startswith("3EB0") and len(m.id) == 20 for m in w.messages)
    assert len({m.id for m in w.messages}) == len(w.messages)


@pytest.mark.parametrize("word", ["dinner", "rent", "dentist", "café"])
def test_world_text_is_searchable(word: str) -> None:
    w = build_world(seed=7, now=NOW)
    assert any(word in (m.content or m.caption or "").lower() for m in w.messages)


def test_lid_alias_sends_in_the_football_group() -> None:
    w = build_world(seed=7, now=NOW)
    assert any(m.sender == SOFIA_LID and m.chat_jid == FOOTBALL_GROUP for m in w.messages)
    football = next(g for g in w.groups if g.jid == FOOTBALL_GROUP)
    assert any(p.jid == SOFIA and p.lid == SOFIA_LID for p in football.participants or [])


def test_world_is_deterministic_and_depends_on_seed() -> None:
    a, b = build_world(seed=7, now=NOW), build_world(seed=7, now=NOW)
    assert [m.model_dump() for m in a.messages] == [m.model_dump() for m in b.messages]
    assert a.media == b.media
    c = build_world(seed=8, now=NOW)
    assert [m.id for m in a.messages] != [m.id for m in c.messages]


# ------------------------------------------------------------------ start and event stream


@pytest.mark.anyio
async def test_start_emits_connection_then_world_through_history_path() -> None:
    t = make()
    await t.start()
    events = await drain_world(t)
    assert isinstance(events[0], ConnectionEvent) and events[0].state is ConnectionState.connecting
    assert isinstance(events[1], ConnectionEvent) and events[1].state is ConnectionState.connected
    assert events[1].account_jid == "15550000000@s.whatsapp.net"
    assert isinstance(events[2], ContactsEvent)
    assert [type(e) for e in events[3:5]] == [GroupEvent, GroupEvent]
    history = [e for e in events if isinstance(e, HistoryEvent)]
    assert sum(len(h.batch.messages) for h in history) == len(t.world.messages)
    # Reactions come after the messages they react to; the end-of-seed chunk closes the sync.
    assert isinstance(events[-2], ReactionEvent)
    assert history[-1] is events[-1] and not history[-1].batch.messages
    assert history[-1].sync_type == SIMULATED_SEED and history[-1].final
    assert history[-1].progress == 100
    assert all(h.progress is not None and h.progress < 100 for h in history[:-1])
    await t.stop()


@pytest.mark.anyio
async def test_two_transports_with_same_seed_emit_identical_streams() -> None:
    streams = []
    for _ in range(2):
        t = make(history_messages=1200)
        await t.start()
        events = await take_until(t, count=world_event_count(t) + 1)
        streams.append([e.model_dump() for e in events])
        await t.stop()
    assert streams[0] == streams[1]
    assert streams[0][-1]["type"] == "history" and streams[0][-1]["progress"] == 100


@pytest.mark.anyio
async def test_synthetic_history_streams_after_the_world() -> None:
    t = make(history_messages=12_000)
    await t.start()
    await drain_world(t)
    batches = await take_until(t, count=3)
    assert all(isinstance(e, HistoryEvent) for e in batches)
    assert sum(len(e.batch.messages) for e in batches if isinstance(e, HistoryEvent)) == 12_000
    await t.stop()


@pytest.mark.anyio
async def test_a_restarted_network_never_reuses_a_message_id() -> None:
    """Same seed, same clock, as after a bridge restart: the seeded world is the same, but the
    ids of new messages are not, so a send cannot collide with a stored message."""
    sent: list[set[str]] = []
    for _ in range(2):
        t = make()
        await t.start()
        world_ids = {m.id for m in t.world.messages}
        await drain_world(t)
        ids = {(await t.send_text(OutboundText(chat_jid=MARIA, text=f"n{i}"))).id for i in range(5)}
        assert len(ids) == 5 and not ids & world_ids
        sent.append(ids)
        await t.stop()
    assert not sent[0] & sent[1]


# ------------------------------------------------------------------ commands


@pytest.mark.anyio
async def test_send_to_peer_gets_receipts_and_an_answer() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    result = await t.send_text(OutboundText(chat_jid=MARIA, text="Dinner on Friday?"))
    assert result.id.startswith("3EB0") and result.timestamp == NOW
    events = await take_until(t, MessageEvent)
    receipts = [e.receipt for e in events if isinstance(e, ReceiptEvent)]
    assert [r.kind for r in receipts] == [ReceiptKind.delivered, ReceiptKind.read]
    assert all(r.message_ids == [result.id] and r.chat_jid == MARIA for r in receipts)
    answer = events[-1]
    assert isinstance(answer, MessageEvent)
    assert answer.message.chat_jid == MARIA and answer.message.sender == MARIA
    assert not answer.message.is_from_me and "dinner" in (answer.message.content or "").lower()
    assert t.sent == [OutboundText(chat_jid=MARIA, text="Dinner on Friday?")]
    await t.stop()


@pytest.mark.anyio
async def test_groups_and_unknown_chats_take_messages_silently() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    await t.send_text(OutboundText(chat_jid=FAMILY_GROUP, text="hi all"))
    await t.send_text(OutboundText(chat_jid="15559999999@s.whatsapp.net", text="hello?"))
    await t.inject_event(ConnectionEvent(state=ConnectionState.connected, detail="marker"))
    events = await take_until(t, count=1)
    assert isinstance(events[0], ConnectionEvent) and events[0].detail == "marker"
    assert not t._tasks  # no answer scheduled
    await t.stop()


@pytest.mark.anyio
async def test_peer_answers_are_capped() -> None:
    t = SimulatedTransport(clock=lambda: NOW, reply_delay=0)
    await t.start()
    await drain_world(t)
    for i in range(MAX_ANSWERS_PER_PEER + 3):
        await t.send_text(OutboundText(chat_jid=MARIA, text=f"ping {i}"))
    await eventually_async(lambda: not t._tasks, timeout=5, interval=0.01, what="answers sent")
    events = await take_until(t, count=t._queue.qsize())
    answers = [e for e in events if isinstance(e, MessageEvent)]
    assert len(answers) == MAX_ANSWERS_PER_PEER
    await t.stop()


@pytest.mark.anyio
async def test_commands_need_a_connection() -> None:
    t = make()
    with pytest.raises(NotConnected):
        await t.send_text(OutboundText(chat_jid=MARIA, text="hi"))
    await t.start()
    await t.stop()
    with pytest.raises(NotConnected):
        await t.send_reaction(MARIA, "3EB0X", MARIA, "👍")
    with pytest.raises(NotConnected):
        await t.inject_inbound("+15550100143", "hi")


@pytest.mark.anyio
async def test_recorded_commands_and_media_roundtrip() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    await t.send_reaction(MARIA, "3EB0AAAA", MARIA, "❤️")
    await t.mark_read(MARIA, ["3EB0AAAA"], MARIA)
    await t.set_typing(MARIA, True)
    sent = await t.send_media(
        OutboundMedia(chat_jid=FAMILY_GROUP, kind=MessageKind.image, data=b"abc", mime_type="x/y")
    )
    assert await t.download_media(FAMILY_GROUP, sent.id, {}) == b"abc"
    assert len(t.sent) == 2 and t.read_marks[0].message_ids == ("3EB0AAAA",)
    assert t.typing == [(MARIA, True)]
    await t.stop()


@pytest.mark.anyio
async def test_download_seeded_media_returns_valid_files() -> None:
    t = make()
    by_kind = {m.kind: m for m in t.world.messages if m.media}
    png = await t.download_media(MARIA, by_kind[MessageKind.image].id, {})
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
    pdf = await t.download_media(MARIA, by_kind[MessageKind.document].id, {})
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    ogg = await t.download_media(MARIA, by_kind[MessageKind.voice].id, {})
    assert ogg.startswith(b"OggS") and b"OpusHead" in ogg
    with pytest.raises(TransportError, match="media expired"):
        await t.download_media(MARIA, "3EB0DOESNOTEXIST0000", {})


@pytest.mark.anyio
async def test_logout_then_phone_pairing_reconnects() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    await t.logout()
    (event,) = await take_until(t, count=1)
    assert isinstance(event, ConnectionEvent) and event.state is ConnectionState.logged_out
    assert not t.is_paired() and t.account_jid is None
    await t.start()
    events = await take_until(t, PairingEvent)
    assert events[-2] == ConnectionEvent(state=ConnectionState.pairing)
    code = await t.pair_phone("+1 555 000 0000")
    assert len(code) == 9 and code[4] == "-" and code.replace("-", "").isalpha()
    events = await take_until(t, ConnectionEvent)
    assert isinstance(events[0], PairingEvent) and events[0].code == code
    assert events[-1].state is ConnectionState.connected  # type: ignore[union-attr]
    assert t.is_paired()
    await t.stop()


# ------------------------------------------------------------------ injection


@pytest.mark.anyio
async def test_inject_from_new_number_makes_an_unsaved_contact() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    record = await t.inject_inbound(
        "+44 7700 900999", "Hi, is the flat still free?", push_name="Zoe"
    )
    (event,) = await take_until(t, count=1)
    assert isinstance(event, MessageEvent) and event.message == record
    assert record.chat_jid == record.sender == "447700900999@s.whatsapp.net"
    assert record.sender_name == "Zoe" and record.content == "Hi, is the flat still free?"
    assert event.contact is not None and event.contact.push_name == "Zoe"
    assert event.contact.saved_name is None
    # The stranger does not answer what we send back.
    await t.send_text(OutboundText(chat_jid=record.chat_jid, text="Yes"))
    assert not t._tasks
    await t.stop()


@pytest.mark.anyio
async def test_inject_into_group_and_via_lid() -> None:
    t = make()
    await t.start()
    await drain_world(t)
    group_msg = await t.inject_inbound(MARIA, "Who's bringing the ball?", FOOTBALL_GROUP)
    assert group_msg.chat_jid == FOOTBALL_GROUP and group_msg.sender == MARIA
    assert group_msg.sender_name == "María"
    lid_msg = await t.inject_inbound(SOFIA_LID, "hola")
    assert lid_msg.chat_jid == SOFIA and lid_msg.sender == SOFIA_LID
    events = await take_until(t, count=2)
    contact = events[1].contact  # type: ignore[union-attr]
    assert contact is not None and contact.jid == SOFIA and contact.lid == SOFIA_LID
    await t.stop()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("sender", "text", "chat", "match"),
    [
        ("Bob", "hi", None, "not a phone number"),
        ("12", "hi", None, "not a phone number"),
        ("not@a.server.example", "hi", None, "unknown WhatsApp server"),
        (FAMILY_GROUP, "hi", None, "not a person"),
        ("+15550100143", "   ", None, "empty"),
        ("+15550100143", "hi", "+15550100188", "not a group"),
        ("15550000000@s.whatsapp.net", "hi", None, "account itself"),
    ],
)
async def test_inject_rejects_garbage(sender: str, text: str, chat: str | None, match: str) -> None:
    t = make()
    await t.start()
    with pytest.raises(InvalidArgument, match=match):
        await t.inject_inbound(sender, text, chat)
    await t.stop()


# ------------------------------------------------------------------ synthetic history


def test_synthetic_history_counts_spread_and_zipf() -> None:
    batches = list(synthetic_history(10_000, seed=7, now=NOW, batch_size=3000))
    assert [len(b.messages) for b in batches] == [3000, 3000, 3000, 1000]
    messages = [m for b in batches for m in b.messages]
    assert len({m.id for m in messages}) == 10_000
    chats = Counter(m.chat_jid for m in messages)
    assert len(chats) >= 0.9 * synthetic_chat_count(10_000)
    # Every chat and contact is announced exactly once, in or before its first message's batch.
    announced = [c.jid for b in batches for c in b.chats]
    assert sorted(announced) == sorted(chats) == sorted(c.jid for b in batches for c in b.contacts)
    span = messages[-1].timestamp - messages[0].timestamp
    assert 700 <= span.days <= 731 and messages[-1].timestamp <= NOW
    assert all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(messages))
    words = Counter(w.lower() for m in messages for w in (m.content or "").split())
    freqs = sorted(words.values(), reverse=True)
    assert freqs[0] > 50 * statistics.median(freqs)
    assert 0.3 < sum(m.is_from_me for m in messages) / len(messages) < 0.5


def test_synthetic_history_is_deterministic() -> None:
    def dump(seed: int) -> list[dict[str, object]]:
        return [
            m.model_dump() for b in synthetic_history(2000, seed=seed, now=NOW) for m in b.messages
        ]

    assert dump(3) == dump(3)
    assert dump(3) != dump(4)


def test_synthetic_history_edge_sizes() -> None:
    assert list(synthetic_history(0, seed=1, now=NOW)) == []
    (batch,) = synthetic_history(1, seed=1, now=NOW)
    assert len(batch.messages) == 1 and len(batch.chats) == 1
    with pytest.raises(ValueError):
        list(synthetic_history(5, seed=1, now=NOW, batch_size=0))


@pytest.mark.anyio
async def test_a_phone_slow_to_connect_pushes_its_world_late() -> None:
    slow = make(connect_delay=0.3)
    await slow.start()
    await slow.start()  # asked again while connecting: a no-op, as when connected
    first = await take_until(slow, count=1)
    assert [e.state for e in first if isinstance(e, ConnectionEvent)] == [
        ConnectionState.connecting
    ]
    later = await take_until(slow, ContactsEvent)
    assert isinstance(later[0], ConnectionEvent) and later[0].state is ConnectionState.connected
    assert isinstance(later[-1], ContactsEvent) and later[-1].contacts
    await slow.stop()
