"""Real neonize protobufs in, exact store records out."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.transport.neonize import convert as conv
from bridge.transport.protocol import (
    ConnectionState,
    DeleteEvent,
    EditEvent,
    HistoryEvent,
    MessageEvent,
    ReactionEvent,
    ReceiptEvent,
)
from store.models import (
    ChatRecord,
    ContactRecord,
    GroupParticipantRecord,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReceiptKind,
)
from tests.bridge.transport.neonize import neonize_factory as f
from tests.bridge.transport.neonize.neonize_factory import E, H, N

TS_MS = 1_700_000_000_123
TS = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
ALICE_JID = f"{f.ALICE}@s.whatsapp.net"
BOB_JID = f"{f.BOB}@s.whatsapp.net"
GROUP_JID = f"{f.GROUP}@g.us"


def roundtrip(ev):
    """What Python actually receives: the event serialized and parsed again."""
    return type(ev).FromString(ev.SerializeToString())


def test_plain_text_from_a_contact_becomes_a_message_with_ms_timestamp():
    ev = roundtrip(f.message_ev(f.text("hello"), ts_ms=TS_MS))
    out = conv.convert_message(ev)
    assert out == MessageEvent(
        message=MessageRecord(
            id="3EB0ABCDEF012345",
            chat_jid=ALICE_JID,
            sender=ALICE_JID,
            sender_name="Alice",
            timestamp=TS,
            content="hello",
        ),
        contact=ContactRecord(jid=ALICE_JID, push_name="Alice"),
        chat=ChatRecord(jid=ALICE_JID, is_group=False),
    )


def test_message_i_sent_from_my_phone_has_no_sender():
    ev = roundtrip(f.message_ev(f.text("on my way"), from_me=True, ts_ms=TS_MS, push_name="Me"))
    out = conv.convert_message(ev)
    assert isinstance(out, MessageEvent)
    assert out.message.is_from_me is True
    assert out.message.sender is None and out.message.sender_name is None
    assert out.contact is None


def test_reply_with_mentions_keeps_quoted_id_sender_and_mentions():
    content = f.reply(
        "see @15559998888",
        "3EB0PREV",
        f"{f.BOB}:12@s.whatsapp.net",
        mentions=[BOB_JID, "15550001111:3@s.whatsapp.net"],
    )
    out = conv.convert_message(roundtrip(f.message_ev(content, ts_ms=TS_MS)))
    assert isinstance(out, MessageEvent)
    m = out.message
    assert (m.kind, m.content) == (MessageKind.text, "see @15559998888")
    assert m.reply_to_id == "3EB0PREV"
    assert m.reply_to_sender == BOB_JID  # device part stripped
    assert m.mentions == [BOB_JID, "15550001111@s.whatsapp.net"]


def test_image_with_caption_keeps_everything_needed_to_download_it():
    out = conv.convert_message(roundtrip(f.message_ev(f.image("sunset"), ts_ms=TS_MS)))
    assert isinstance(out, MessageEvent)
    m = out.message
    assert (m.kind, m.caption, m.content) == (MessageKind.image, "sunset", None)
    assert m.media == MediaInfo(
        mime_type="image/jpeg",
        file_size=12345,
        width=640,
        height=480,
        url="https://mmg.whatsapp.net/v/t62/abc.enc",
        direct_path="/v/t62.7118-24/abc.enc?ccb=11-4",
        media_key=base64.b64encode(b"\x02" * 32).decode(),
        file_sha256=base64.b64encode(b"\x01" * 32).decode(),
        file_enc_sha256=base64.b64encode(b"\x03" * 32).decode(),
    )
    # …and the stored fields rebuild the protobuf download_any needs.
    rebuilt = conv.download_message(m.media, MessageKind.image)
    img = rebuilt.imageMessage
    assert img.directPath == "/v/t62.7118-24/abc.enc?ccb=11-4"
    assert img.mediaKey == b"\x02" * 32 and img.fileEncSHA256 == b"\x03" * 32
    assert img.fileSHA256 == b"\x01" * 32 and img.fileLength == 12345


def test_voice_note_is_kind_voice_with_seconds():
    out = conv.convert_message(roundtrip(f.message_ev(f.voice(7), ts_ms=TS_MS)))
    assert isinstance(out, MessageEvent)
    m = out.message
    assert m.kind is MessageKind.voice
    assert m.media is not None
    assert (m.media.seconds, m.media.mime_type, m.media.file_size) == (
        7,
        "audio/ogg; codecs=opus",
        2048,
    )
    rebuilt = conv.download_message(m.media, MessageKind.voice)
    assert rebuilt.audioMessage.PTT is True


def test_document_keeps_filename_and_caption():
    content = E.Message(
        documentMessage=E.DocumentMessage(
            mimetype="application/pdf",
            fileName="invoice.pdf",
            caption="for March",
            directPath="/d",
            mediaKey=b"k",
            fileEncSHA256=b"e",
        )
    )
    out = conv.convert_message(roundtrip(f.message_ev(content, ts_ms=TS_MS)))
    assert isinstance(out, MessageEvent) and out.message.media is not None
    assert out.message.kind is MessageKind.document
    assert out.message.caption == "for March"
    assert out.message.media.filename == "invoice.pdf"


def test_reaction_targets_the_reacted_message_and_empty_emoji_removes():
    ev = roundtrip(f.message_ev(f.reaction("3EB0TARGET", "👍"), msg_id="R1", ts_ms=TS_MS))
    out = conv.convert_message(ev)
    assert isinstance(out, ReactionEvent)
    r = out.reaction
    assert (r.chat_jid, r.message_id, r.sender, r.emoji) == (
        ALICE_JID,
        "3EB0TARGET",
        ALICE_JID,
        "👍",
    )
    assert r.timestamp == datetime(2023, 11, 14, 22, 15, 23, tzinfo=UTC)
    removed = conv.convert_message(roundtrip(f.message_ev(f.reaction("3EB0TARGET", ""))))
    assert isinstance(removed, ReactionEvent) and removed.reaction.emoji == ""


def test_edit_becomes_an_edit_of_the_original_message():
    ev = roundtrip(f.message_ev(f.edit("3EB0ORIG", "fixed typo"), msg_id="E1", edit="1"))
    out = conv.convert_message(ev)
    assert isinstance(out, EditEvent)
    assert (out.edit.chat_jid, out.edit.message_id, out.edit.content) == (
        ALICE_JID,
        "3EB0ORIG",
        "fixed typo",
    )
    assert out.edit.timestamp == datetime(2023, 11, 14, 22, 16, 40, tzinfo=UTC)


def test_edit_still_wrapped_in_edited_message_is_unwrapped():
    wrapped = E.Message(editedMessage=E.FutureProofMessage(message=f.edit("3EB0ORIG", "v2")))
    out = conv.convert_message(roundtrip(f.message_ev(wrapped, edit="1")))
    assert isinstance(out, EditEvent) and out.edit.content == "v2"


def test_revoke_becomes_a_delete():
    out = conv.convert_message(roundtrip(f.message_ev(f.revoke("3EB0GONE"), ts_ms=TS_MS, edit="7")))
    assert isinstance(out, DeleteEvent)
    assert (out.delete.chat_jid, out.delete.message_id, out.delete.timestamp) == (
        ALICE_JID,
        "3EB0GONE",
        TS,
    )


def test_group_message_from_lid_sender_is_keyed_by_phone_and_teaches_the_lid():
    ev = f.message_ev(
        f.text("hi all"),
        chat=f.GROUP,
        server="g.us",
        sender=f.BOB_LID,
        sender_server="lid",
        sender_alt=f.jid(f.BOB, device=3),
        push_name="Bob",
        ts_ms=TS_MS,
    )
    out = conv.convert_message(roundtrip(ev))
    assert isinstance(out, MessageEvent)
    assert out.message.chat_jid == GROUP_JID
    assert out.message.sender == BOB_JID
    assert out.message.sender_name == "Bob"
    assert out.contact == ContactRecord(jid=BOB_JID, lid=f"{f.BOB_LID}@lid", push_name="Bob")
    assert out.chat == ChatRecord(jid=GROUP_JID, is_group=True)


def test_direct_chat_addressed_by_lid_is_mapped_to_the_phone_chat():
    ev = f.message_ev(
        f.text("hey"),
        chat=f.BOB_LID,
        server="lid",
        sender_alt=f.jid(f.BOB),
        push_name="Bob",
    )
    out = conv.convert_message(roundtrip(ev))
    assert isinstance(out, MessageEvent)
    assert (out.message.chat_jid, out.message.sender) == (BOB_JID, BOB_JID)


@pytest.mark.parametrize(
    ("wrapper", "expected_text"),
    [
        ("ephemeralMessage", "secret"),
        ("viewOnceMessage", "secret"),
        ("viewOnceMessageV2", "secret"),
        ("documentWithCaptionMessage", "secret"),
    ],
)
def test_wrappers_are_unwrapped(wrapper, expected_text):
    inner = E.Message(conversation=expected_text)
    raw = E.Message(**{wrapper: E.FutureProofMessage(message=inner)})
    assert conv.unwrap(raw) == inner
    # A live event whose Message field was left wrapped still converts.
    out = conv.convert_message(roundtrip(f.message_ev(raw)))
    assert isinstance(out, MessageEvent) and out.message.content == expected_text


def test_location_contact_card_and_poll_are_readable_text():
    loc = E.Message(
        locationMessage=E.LocationMessage(
            degreesLatitude=52.52, degreesLongitude=13.405, name="Cafe", address="Main St 1"
        )
    )
    card = E.Message(
        contactMessage=E.ContactMessage(
            displayName="Carol", vcard="BEGIN:VCARD\nFN:Carol\nTEL;type=CELL:+1 555 000\nEND:VCARD"
        )
    )
    poll = E.Message(
        pollCreationMessageV3=E.PollCreationMessage(
            name="Lunch?",
            options=[E.PollCreationMessage.Option(optionName=o) for o in ("Pizza", "Sushi")],
        )
    )
    got = [conv.convert_message(roundtrip(f.message_ev(m))) for m in (loc, card, poll)]
    assert all(isinstance(g, MessageEvent) for g in got)
    msgs = [g.message for g in got if isinstance(g, MessageEvent)]
    assert [m.kind for m in msgs] == [MessageKind.location, MessageKind.contact, MessageKind.poll]
    assert msgs[0].content == "Location: Cafe — Main St 1 (52.520000, 13.405000)"
    assert msgs[1].content == "Contact card: Carol (+1 555 000)"
    assert msgs[2].content == "Poll: Lunch?\n- Pizza\n- Sushi"


@pytest.mark.parametrize(
    "content",
    [
        E.Message(
            protocolMessage=E.ProtocolMessage(type=E.ProtocolMessage.APP_STATE_SYNC_KEY_SHARE)
        ),
        E.Message(
            protocolMessage=E.ProtocolMessage(type=E.ProtocolMessage.HISTORY_SYNC_NOTIFICATION)
        ),
        E.Message(senderKeyDistributionMessage=E.SenderKeyDistributionMessage(groupID="x")),
        E.Message(),
    ],
)
def test_protocol_and_empty_messages_are_skipped(content):
    assert conv.convert_message(roundtrip(f.message_ev(content))) is None


def test_status_broadcast_is_skipped():
    ev = f.message_ev(f.text("my status"), chat="status", server="broadcast", sender=f.ALICE)
    assert conv.convert_message(roundtrip(ev)) is None


def test_history_chunk_with_three_conversations_uses_second_timestamps():
    t1, t2, t3 = 1_600_000_000, 1_650_000_000, 1_700_000_000
    conversations = [
        H.Conversation(
            ID=ALICE_JID,
            name="Alice Smith",
            unreadCount=2,
            conversationTimestamp=t1,
            messages=[
                f.web_message("A1", f.text("old hello"), t1, remote=ALICE_JID, push_name="Ali"),
                f.web_message(
                    "A2",
                    E.Message(ephemeralMessage=E.FutureProofMessage(message=f.text("wrapped"))),
                    t1 + 60,
                    remote=ALICE_JID,
                    from_me=True,
                ),
                f.web_message("A3", f.text(""), t1, remote=ALICE_JID, stub=20),  # stub: skipped
            ],
        ),
        H.Conversation(
            ID=GROUP_JID,
            name="Climbing",
            conversationTimestamp=t2,
            messages=[
                f.web_message(
                    "G1",
                    f.image("crag"),
                    t2,
                    remote=GROUP_JID,
                    participant=f"{f.BOB_LID}@lid",
                    push_name="Bob",
                )
            ],
        ),
        H.Conversation(
            ID=f"{f.BOB_LID}@lid",
            pnJID=BOB_JID,
            lidJID=f"{f.BOB_LID}@lid",
            conversationTimestamp=t3,
            messages=[f.web_message("B1", f.text("yo"), t3, remote=f"{f.BOB_LID}@lid")],
        ),
    ]
    ev = roundtrip(f.history(conversations, [H.Pushname(ID=BOB_JID, pushname="Bobby")]))
    out = conv.convert_history(ev)
    assert isinstance(out, HistoryEvent)
    assert out.progress == 50
    b = out.batch
    utc = UTC
    assert b.chats == [
        ChatRecord(
            jid=ALICE_JID,
            name="Alice Smith",
            unread_count=2,
            last_message_at=datetime.fromtimestamp(t1, utc),
        ),
        ChatRecord(
            jid=GROUP_JID,
            name="Climbing",
            is_group=True,
            last_message_at=datetime.fromtimestamp(t2, utc),
        ),
        ChatRecord(jid=BOB_JID, last_message_at=datetime.fromtimestamp(t3, utc)),
    ]
    assert b.contacts == [ContactRecord(jid=BOB_JID, lid=f"{f.BOB_LID}@lid", push_name="Bobby")]
    by_id = {m.id: m for m in b.messages}
    assert sorted(by_id) == ["A1", "A2", "B1", "G1"]
    assert by_id["A1"] == MessageRecord(
        id="A1",
        chat_jid=ALICE_JID,
        sender=ALICE_JID,
        sender_name="Ali",
        timestamp=datetime.fromtimestamp(t1, utc),
        content="old hello",
    )
    assert (by_id["A2"].content, by_id["A2"].is_from_me, by_id["A2"].sender) == (
        "wrapped",
        True,
        None,
    )
    assert by_id["A2"].timestamp == datetime.fromtimestamp(t1 + 60, utc)
    g1 = by_id["G1"]
    assert (g1.chat_jid, g1.sender, g1.kind, g1.caption) == (
        GROUP_JID,
        BOB_JID,
        MessageKind.image,
        "crag",
    )
    assert (by_id["B1"].chat_jid, by_id["B1"].sender) == (BOB_JID, BOB_JID)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (N.Receipt.DELIVERED, ReceiptKind.delivered),
        (N.Receipt.READ, ReceiptKind.read),
        (N.Receipt.PLAYED, ReceiptKind.played),
    ],
)
def test_receipts(kind, expected):
    out = conv.convert_receipt(roundtrip(f.receipt(["M1", "M2"], kind)))
    assert isinstance(out, ReceiptEvent)
    r = out.receipt
    assert (r.chat_jid, r.message_ids, r.sender, r.kind) == (
        ALICE_JID,
        ["M1", "M2"],
        ALICE_JID,
        expected,
    )
    assert r.timestamp == datetime.fromtimestamp(1_700_000_300, UTC)


def test_retry_receipts_are_skipped():
    assert conv.convert_receipt(roundtrip(f.receipt(["M1"], N.Receipt.RETRY))) is None


def _group_info() -> N.GroupInfo:
    name = N.GroupName(Name="Climbing", NameSetAt=0, NameSetBy=f.jid())
    topic = N.GroupTopic(Topic="Sundays", TopicID="", TopicSetAt=0, TopicSetBy=f.jid())
    info = N.GroupInfo(
        JID=f.jid(f.GROUP, "g.us"),
        OwnerJID=f.jid(f.ALICE),
        OwnerPN=f.jid(f.ALICE),
        GroupName=name,
        GroupTopic=topic,
        GroupCreated=1.7e9,
        ParticipantVersionID="",
        Participants=[
            N.GroupParticipant(
                JID=f.jid(f.BOB_LID, "lid"),
                LID=f.jid(f.BOB_LID, "lid"),
                PhoneNumber=f.jid(f.BOB),
                IsAdmin=True,
                IsSuperAdmin=False,
                DisplayName="Bob",
                Error=0,
            )
        ],
    )
    return info


def test_group_info_maps_participants_to_phone_numbers():
    group = conv.group_record(_group_info())
    assert group is not None
    assert (group.jid, group.name, group.topic) == (GROUP_JID, "Climbing", "Sundays")
    assert group.owner == f"{f.ALICE}@s.whatsapp.net"  # who created it: consent (issue 13)
    assert group.participants == [
        GroupParticipantRecord(
            jid=BOB_JID, lid=f"{f.BOB_LID}@lid", is_admin=True, display_name="Bob"
        )
    ]


def test_contacts_prefer_full_name_then_first_name():
    contacts = [
        N.Contact(
            JID=f.jid(f.ALICE),
            Info=N.ContactInfo(
                Found=True,
                FirstName="Al",
                FullName="Alice Smith",
                PushName="Ali",
                BusinessName="",
                RedactedPhone="",
            ),
        ),
        N.Contact(
            JID=f.jid(f.BOB),
            Info=N.ContactInfo(
                Found=True,
                FirstName="Bob",
                FullName="",
                PushName="",
                BusinessName="Bob's Bikes",
                RedactedPhone="",
            ),
        ),
    ]
    out = conv.convert_contacts(contacts)
    assert out is not None
    assert out.contacts == [
        ContactRecord(jid=ALICE_JID, saved_name="Alice Smith", push_name="Ali"),
        ContactRecord(jid=BOB_JID, saved_name="Bob", business_name="Bob's Bikes"),
    ]


NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "state", "needle"),
    [
        (N.Connected(status=True), ConnectionState.connected, "Connected"),
        (
            N.LoggedOut(OnConnect=True, Reason=N.LOGGED_OUT),
            ConnectionState.logged_out,
            "Pair again",
        ),
        (N.ClientOutdated(), ConnectionState.outdated, "Upgrade"),
        (
            N.ConnectFailure(Reason=N.CLIENT_OUTDATED, Message="405", Raw=N.Node(Tag="failure")),
            ConnectionState.outdated,
            "client outdated",
        ),
        (
            N.ConnectFailure(Reason=N.MAIN_DEVICE_GONE, Message="", Raw=N.Node(Tag="failure")),
            ConnectionState.logged_out,
            "main device gone",
        ),
        (
            N.ConnectFailure(
                Reason=N.SERVICE_UNAVAILABLE, Message="503", Raw=N.Node(Tag="failure")
            ),
            ConnectionState.disconnected,
            "service unavailable: 503",
        ),
        (N.StreamReplaced(), ConnectionState.stream_replaced, "took it over"),
        (N.Disconnected(status=True), ConnectionState.disconnected, "reconnecting"),
        (
            N.KeepAliveTimeout(ErrorCount=3, LastSuccess=0),
            ConnectionState.disconnected,
            "3 missed",
        ),
    ],
)
def test_connection_events_map_to_states_with_a_sentence(event, state, needle):
    out = conv.convert_connection(roundtrip(event), now=NOW)
    assert out is not None
    assert out.state is state
    assert out.detail and needle in out.detail


def test_temporary_ban_carries_reason_and_expiry():
    ev = roundtrip(N.TemporaryBan(Code=N.TemporaryBan.SENT_TOO_MANY_SAME_MESSAGE, Expire=3600))
    out = conv.convert_connection(ev, now=NOW)
    assert out is not None
    assert out.state is ConnectionState.banned
    assert out.ban_expires_at == NOW + timedelta(hours=1)
    assert out.detail == (
        "WhatsApp temporarily banned this account until 2024-01-01 01:00 UTC "
        "(reason: sent too many same message). Wait it out."
    )


# ---------------------------------------------------------------- fuzzing

_jid_users = st.one_of(
    st.just(""), st.text(max_size=20), st.from_regex(r"[0-9]{5,16}", fullmatch=True)
)
_servers = st.sampled_from(["s.whatsapp.net", "g.us", "lid", "broadcast", "", "x y", "c.us"])


@st.composite
def _jids(draw):
    return N.JID(
        User=draw(_jid_users),
        Server=draw(_servers),
        Device=draw(st.integers(0, 2**32 - 1)),
        RawAgent=draw(st.integers(0, 255)),
    )


_strs = st.text(max_size=30)
_bytes = st.binary(max_size=40)
_ints = st.integers(-(2**63), 2**63 - 1)


@st.composite
def _contents(draw):
    kind = draw(st.integers(0, 12))
    ctx = E.ContextInfo(
        stanzaID=draw(_strs),
        participant=draw(_strs),
        mentionedJID=draw(st.lists(_strs, max_size=3)),
    )
    if kind == 0:
        return E.Message(conversation=draw(_strs))
    if kind == 1:
        return E.Message(
            extendedTextMessage=E.ExtendedTextMessage(text=draw(_strs), contextInfo=ctx)
        )
    if kind == 2:
        return E.Message(
            imageMessage=E.ImageMessage(
                caption=draw(_strs),
                mediaKey=draw(_bytes),
                directPath=draw(_strs),
                fileLength=draw(st.integers(0, 2**64 - 1)),
                contextInfo=ctx,
            )
        )
    if kind == 3:
        return E.Message(
            audioMessage=E.AudioMessage(
                PTT=draw(st.booleans()), seconds=draw(st.integers(0, 2**32 - 1))
            )
        )
    if kind == 4:
        return E.Message(
            reactionMessage=E.ReactionMessage(text=draw(_strs), senderTimestampMS=draw(_ints))
        )
    if kind == 5:
        return E.Message(
            protocolMessage=E.ProtocolMessage(
                type=draw(st.sampled_from([0, 14, 3, 5])),  # type: ignore[arg-type]
                timestampMS=draw(_ints),
                editedMessage=E.Message(conversation=draw(_strs)) if draw(st.booleans()) else None,
            )
        )
    if kind == 6:
        return E.Message(locationMessage=E.LocationMessage(degreesLatitude=draw(st.floats())))
    if kind == 7:
        return E.Message(contactMessage=E.ContactMessage(vcard=draw(_strs)))
    if kind == 8:
        return E.Message(
            ephemeralMessage=E.FutureProofMessage(message=E.Message(conversation=draw(_strs)))
        )
    if kind == 9:
        return E.Message(pollCreationMessage=E.PollCreationMessage(name=draw(_strs)))
    if kind == 10:
        return E.Message(
            documentMessage=E.DocumentMessage(fileName=draw(_strs), mimetype=draw(_strs))
        )
    if kind == 11:
        return E.Message(groupInviteMessage=E.GroupInviteMessage(groupName=draw(_strs)))
    return E.Message()


@st.composite
def _message_events(draw):
    src = N.MessageSource()
    for field in ("Chat", "Sender", "SenderAlt", "RecipientAlt"):
        if draw(st.booleans()):
            getattr(src, field).CopyFrom(draw(_jids()))
    src.IsFromMe = draw(st.booleans())
    ev = N.Message()
    if draw(st.booleans()):
        ev.Info.MessageSource.CopyFrom(src)
    ev.Info.ID = draw(_strs)
    ev.Info.Timestamp = draw(_ints)
    ev.Info.Pushname = draw(_strs)
    if draw(st.booleans()):
        ev.Message.CopyFrom(draw(_contents()))
    if draw(st.booleans()):
        ev.Raw.CopyFrom(draw(_contents()))
    return ev


FUZZ_EXAMPLES = 400
_ran = {"message": 0, "history": 0, "bytes": 0, "other": 0}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(_message_events())
def test_fuzz_partial_message_events_never_raise(ev):
    _ran["message"] += 1
    out = conv.convert_message(N.Message.FromString(ev.SerializePartialToString()))
    assert out is None or isinstance(out, MessageEvent | ReactionEvent | EditEvent | DeleteEvent)


@settings(max_examples=FUZZ_EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(
            _strs, _strs, _strs, st.lists(st.tuples(_strs, _contents(), _ints, _strs), max_size=3)
        ),
        max_size=3,
    ),
    st.integers(0, 300),
)
def test_fuzz_partial_history_never_raises(convs, progress):
    _ran["history"] += 1
    hs = H.HistorySync(syncType=H.HistorySync.RECENT, progress=progress)
    for cid, pn, lid, msgs in convs:
        c = hs.conversations.add(ID=cid, pnJID=pn, lidJID=lid)
        for mid, content, ts, participant in msgs:
            hm = c.messages.add()
            hm.message.key.ID = mid
            hm.message.message.CopyFrom(content)
            hm.message.messageTimestamp = ts % 2**64
            hm.message.participant = participant
    out = conv.convert_history(N.HistorySync(Data=hs))
    assert out is None or isinstance(out, HistoryEvent)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzz_corrupted_wire_bytes_never_raise(data):
    """Flip bytes of real serialized events; whatever still parses must convert quietly."""
    _ran["bytes"] += 1
    samples = [
        f.message_ev(f.image("x")),
        f.message_ev(f.reaction("T", "👍")),
        f.message_ev(f.edit("T", "y")),
        f.receipt(["A"], N.Receipt.READ),
    ]
    ev = data.draw(st.sampled_from(samples))
    raw = bytearray(ev.SerializeToString())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        parsed = type(ev).FromString(bytes(raw))
    except Exception:
        return  # not a protobuf any more: neonize would fail before us
    if isinstance(parsed, N.Message):
        conv.convert_message(parsed)
    else:
        conv.convert_receipt(parsed)


@settings(max_examples=FUZZ_EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(_jids(), _strs, _ints, st.integers(0, 20))
def test_fuzz_other_converters_never_raise(j, s, n, code):
    _ran["other"] += 1
    conv.convert_receipt(
        N.Receipt(MessageSource=N.MessageSource(Chat=j), MessageIDs=[s], Timestamp=n)
    )
    conv.convert_group_info(N.GroupInfoEvent(JID=j, Name=N.GroupName(Name=s)))
    conv.convert_joined_group(N.JoinedGroup(GroupInfo=N.GroupInfo(JID=j)))
    conv.convert_contacts([N.Contact(JID=j, Info=N.ContactInfo(FullName=s))])
    conv.convert_connection(N.TemporaryBan(Expire=n))
    conv.convert_connection(N.ConnectFailure(Reason=code % 11 or 1, Message=s))  # type: ignore[arg-type]


def test_fuzzers_ran():
    """Guard against the fuzz tests silently running nothing (run after them, in file order)."""
    if any(_ran.values()):
        assert _ran["message"] >= FUZZ_EXAMPLES // 2
