"""In a LID-addressed group, answering a message names its author as WhatsApp addressed them
(the @lid), not the phone JID we file them under; a disappearing chat's sends disappear too.
Checked at the Go FFI edge (`SendMessage`, `BuildReaction`, `MarkRead`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.control.models import MarkReadRequest, ReactRequest, SendTextRequest
from bridge.transport.neonize.client import NeonizeTransport
from bridge.transport.protocol import ConnectionState
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.fake_gocode import full
from tests.bridge.transport.neonize.in_process import connected_neonize, ingest_dispatched
from tests.bridge.transport.neonize.neonize_factory import E, MessageKey, N
from tests.harness import route_rig

pytestmark = pytest.mark.anyio

from neonize._binder import gocode  # noqa: E402

GROUP_JID = f"{f.GROUP}@g.us"
BOB_JID = f"{f.BOB}@s.whatsapp.net"
BOB_LID = f"{f.BOB_LID}@lid"
WEEK = 604800


class FakeSendGo:
    def __init__(self) -> None:
        self.sent: list[tuple[str, E.Message]] = []
        self.reactions: list[tuple[str, str, str]] = []
        self.reads: list[tuple[list[str], str, str]] = []

    def SendMessage(self, _u: bytes, to: bytes, _tl: int, msg: bytes, _ml: int) -> bytes:  # noqa: N802
        self.sent.append((N.JID.FromString(to).Server, E.Message.FromString(msg)))
        resp = full(N.SendResponse(ID=f"3EB0OUT{len(self.sent):04d}", Timestamp=1_700_000_900))
        return N.SendMessageReturnFunction(SendResponse=resp).SerializeToString()

    def BuildReaction(  # noqa: N802
        self, _u: bytes, chat: bytes, _cl: int, sender: bytes, _sl: int, mid: bytes, emoji: bytes
    ) -> bytes:
        c, s = N.JID.FromString(chat), N.JID.FromString(sender)
        self.reactions.append((f"{s.User}@{s.Server}", mid.decode(), emoji.decode()))
        key = MessageKey(remoteJID=f"{c.User}@{c.Server}", participant=f"{s.User}@{s.Server}")
        key.ID = mid.decode()
        msg = E.Message(reactionMessage=E.ReactionMessage(key=key, text=emoji.decode()))
        return N.BuildMessageReturnFunction(Message=msg).SerializeToString()

    def MarkRead(  # noqa: N802
        self,
        _u: bytes,
        ids: bytes,
        _ts: int,
        chat: bytes,
        _cl: int,
        sender: bytes,
        _sl: int,
        _r: Any,
    ) -> bytes:
        s = N.JID.FromString(sender)
        self.reads.append(
            (ids.decode().split(" "), N.JID.FromString(chat).User, f"{s.User}@{s.Server}")
        )
        return b""


async def test_replies_reactions_and_receipts_name_the_lid_and_carry_the_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = connected_neonize(tmp_path, account=f"{f.ME}@s.whatsapp.net")
    go = FakeSendGo()
    for name in ("SendMessage", "BuildReaction", "MarkRead"):
        monkeypatch.setattr(gocode, name, getattr(go, name))
    hello = E.Message(
        extendedTextMessage=E.ExtendedTextMessage(
            text="lunch?", contextInfo=E.ContextInfo(expiration=WEEK)
        )
    )
    ev = f.message_ev(
        hello,
        chat=f.GROUP,
        server="g.us",
        sender=f.BOB_LID,
        sender_server="lid",
        sender_alt=f.jid(f.BOB),
        push_name="Bob",
        msg_id="G1",
    )
    ev.Info.MessageSource.Sender.Device = 4  # real senders carry their device
    async with route_rig(tmp_path / "data", t, WHATSAPP_MCP_ALLOWED_RECIPIENTS=GROUP_JID) as r:
        rec = await ingest_dispatched(t, r, ev)
        assert rec.sender == BOB_JID and rec.sender_wire == BOB_LID
        assert r.reader.get_message(GROUP_JID, "G1").sender == BOB_JID  # one person, one JID
        assert r.reader.wire_sender(GROUP_JID, "G1") == BOB_LID
        assert r.reader.chat_expiration(GROUP_JID) == WEEK

        await r.bridge.sender.send_text(SendTextRequest(to=GROUP_JID, text="yes", reply_to="G1"))
        await r.bridge.sender.send_reaction(
            ReactRequest(chat=GROUP_JID, message_id="G1", emoji="👍")
        )
        await r.bridge.sender.mark_read(MarkReadRequest(chat=GROUP_JID))

    server, reply = go.sent[0]
    assert server == "g.us"
    ctx = reply.extendedTextMessage.contextInfo
    assert (ctx.stanzaID, ctx.participant, ctx.expiration) == ("G1", BOB_LID, WEEK)
    assert ctx.quotedMessage.conversation == "lunch?"
    assert go.reactions == [(BOB_LID, "G1", "👍")]
    assert go.sent[1][1].reactionMessage.key.participant == BOB_LID
    assert go.reads == [(["G1"], f.GROUP, BOB_LID)]


def test_hosted_participants_lose_their_device_part() -> None:
    from store.jid import normalize_jid

    # Cloud-API ("hosted") senders carry a device like everyone else: one person, one JID.
    assert normalize_jid("15551234567:99@hosted") == "15551234567@hosted"
    assert normalize_jid("123456789:99@hosted.lid") == "123456789@hosted.lid"


async def test_typing_is_sent_only_while_shown_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = NeonizeTransport(tmp_path / "session" / "wa.db")
    t._prepare()
    t._state = ConnectionState.connected
    calls: list[tuple[str, bytes]] = []
    monkeypatch.setattr(gocode, "SendPresence", lambda _u, p: calls.append(("presence", p)) or b"")
    monkeypatch.setattr(
        gocode,
        "SendChatPresence",
        lambda _u, _j, _jl, state, _m: calls.append(("chat", str(state).encode())) or b"",
    )
    await t.set_typing(f"{f.ALICE}@s.whatsapp.net", True)
    await t.set_typing(f"{f.ALICE}@s.whatsapp.net", False)
    assert [c[0] for c in calls] == ["presence", "chat", "chat", "presence"]
    assert calls[0][1] == b"available" and calls[-1][1] == b"unavailable"
