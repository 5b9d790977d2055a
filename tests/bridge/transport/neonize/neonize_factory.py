"""Realistic neonize protobufs for tests, and a way to push them through neonize's dispatch.

neonize's `Neonize.proto` is proto2 with `required` fields; these builders fill every one, so
`SerializeToString()` works exactly as it does for what Go hands to Python.
"""

from __future__ import annotations

import ctypes
import time

from google.protobuf.message import Message as ProtoMessage

from bridge.transport.neonize.env import prepare_neonize_environment

prepare_neonize_environment()  # before neonize loads (bot tag, logging, leaked pipes)

from neonize.events import EVENT_TO_INT  # noqa: E402
from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waCommon.WACommon_pb2 import MessageKey  # noqa: E402
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E  # noqa: E402
from neonize.proto.waHistorySync import WAWebProtobufsHistorySync_pb2 as H  # noqa: E402
from neonize.proto.waWeb import WAWebProtobufsWeb_pb2 as W  # noqa: E402

__all__ = ["E", "H", "N", "W", "MessageKey"]

ALICE = "15551234567"
BOB = "15559998888"
BOB_LID = "123456789012345"
GROUP = "120363000000000000"
ME = "15550001111"


def jid(user: str = "", server: str = "s.whatsapp.net", device: int = 0) -> N.JID:
    return N.JID(
        User=user,
        Server=server if user else "",
        RawAgent=0,
        Device=device,
        Integrator=0,
        IsEmpty=not user,
    )


def message_ev(
    content: E.Message,
    *,
    chat: str = ALICE,
    server: str = "s.whatsapp.net",
    sender: str | None = None,
    sender_server: str = "s.whatsapp.net",
    sender_alt: N.JID | None = None,
    recipient_alt: N.JID | None = None,
    msg_id: str = "3EB0ABCDEF012345",
    from_me: bool = False,
    push_name: str = "Alice",
    ts_ms: int | None = None,
    edit: str = "",
    raw: E.Message | None = None,
) -> N.Message:
    chat_jid = jid(chat, server)
    sender_jid = jid(sender or chat, sender_server if sender else server)
    if server == "g.us" and sender is None:
        sender_jid = jid(BOB)
    return N.Message(
        Info=N.MessageInfo(
            MessageSource=N.MessageSource(
                Chat=chat_jid,
                Sender=sender_jid,
                IsFromMe=from_me,
                IsGroup=(server == "g.us"),
                SenderAlt=sender_alt or jid(),
                RecipientAlt=recipient_alt or jid(),
                BroadcastListOwner=jid(),
            ),
            ID=msg_id,
            ServerID=0,
            Type="text",
            Pushname=push_name,
            Timestamp=ts_ms if ts_ms is not None else int(time.time() * 1000),  # milliseconds
            Category="",
            Multicast=False,
            MediaType="",
            Edit=edit,
        ),
        Message=content,
        Raw=raw if raw is not None else content,
        IsEphemeral=False,
        IsViewOnce=False,
        IsViewOnceV2=False,
        IsViewOnceV2Extension=False,
        IsDocumentWithCaption=False,
        IsLottieSticker=False,
        IsEdit=bool(edit == "1"),
        UnavailableRequestID="",
        RetryCount=0,
    )


def text(t: str) -> E.Message:
    return E.Message(conversation=t)


def reply(t: str, quoted_id: str, quoted_sender: str, mentions: list[str] = ()) -> E.Message:  # type: ignore[assignment]
    return E.Message(
        extendedTextMessage=E.ExtendedTextMessage(
            text=t,
            contextInfo=E.ContextInfo(
                stanzaID=quoted_id,
                participant=quoted_sender,
                quotedMessage=E.Message(conversation="original"),
                mentionedJID=list(mentions),
            ),
        )
    )


def image(caption: str = "look") -> E.Message:
    return E.Message(
        imageMessage=E.ImageMessage(
            URL="https://mmg.whatsapp.net/v/t62/abc.enc",
            mimetype="image/jpeg",
            caption=caption,
            fileSHA256=b"\x01" * 32,
            fileLength=12345,
            height=480,
            width=640,
            mediaKey=b"\x02" * 32,
            fileEncSHA256=b"\x03" * 32,
            directPath="/v/t62.7118-24/abc.enc?ccb=11-4",
            mediaKeyTimestamp=1700000000,
        )
    )


def voice(seconds: int = 7) -> E.Message:
    return E.Message(
        audioMessage=E.AudioMessage(
            URL="https://mmg.whatsapp.net/v/t62/voice.enc",
            mimetype="audio/ogg; codecs=opus",
            fileSHA256=b"\x04" * 32,
            fileLength=2048,
            seconds=seconds,
            PTT=True,
            mediaKey=b"\x05" * 32,
            fileEncSHA256=b"\x06" * 32,
            directPath="/v/t62.7117-24/voice.enc",
        )
    )


def reaction(target_id: str, emoji: str, remote: str = f"{ALICE}@s.whatsapp.net") -> E.Message:
    return E.Message(
        reactionMessage=E.ReactionMessage(
            key=MessageKey(remoteJID=remote, fromMe=True, ID=target_id),
            text=emoji,
            senderTimestampMS=1_700_000_123_000,
        )
    )


def edit(target_id: str, new_text: str) -> E.Message:
    return E.Message(
        protocolMessage=E.ProtocolMessage(
            type=E.ProtocolMessage.MESSAGE_EDIT,
            key=MessageKey(ID=target_id, fromMe=False, remoteJID=f"{ALICE}@s.whatsapp.net"),
            editedMessage=E.Message(conversation=new_text),
            timestampMS=1_700_000_200_000,
        )
    )


def revoke(target_id: str) -> E.Message:
    return E.Message(
        protocolMessage=E.ProtocolMessage(
            type=E.ProtocolMessage.REVOKE, key=MessageKey(ID=target_id)
        )
    )


def web_message(
    msg_id: str,
    content: E.Message,
    ts_s: int,
    *,
    remote: str,
    from_me: bool = False,
    participant: str = "",
    push_name: str = "",
    stub: int = 0,
) -> H.HistorySyncMsg:
    w = W.WebMessageInfo(
        key=MessageKey(remoteJID=remote, fromMe=from_me, ID=msg_id),
        message=content,
        messageTimestamp=ts_s,  # seconds
    )
    if participant:
        w.participant = participant
    if push_name:
        w.pushName = push_name
    if stub:
        w.messageStubType = stub  # type: ignore[assignment]
    return H.HistorySyncMsg(message=w)


def history(
    conversations: list[H.Conversation],
    pushnames: list[H.Pushname] = (),
    progress: int = 50,  # type: ignore[assignment]
) -> N.HistorySync:
    return N.HistorySync(
        Data=H.HistorySync(
            syncType=H.HistorySync.INITIAL_BOOTSTRAP,
            conversations=conversations,
            pushnames=list(pushnames),
            chunkOrder=1,
            progress=progress,
        )
    )


def receipt(
    ids: list[str], kind: int, *, chat: str = ALICE, ts_s: int = 1_700_000_300
) -> N.Receipt:
    return N.Receipt(
        MessageSource=N.MessageSource(
            Chat=jid(chat),
            Sender=jid(chat),
            IsFromMe=False,
            IsGroup=False,
            SenderAlt=jid(),
            RecipientAlt=jid(),
            BroadcastListOwner=jid(),
        ),
        MessageIDs=ids,
        Timestamp=ts_s,
        Type=kind,  # type: ignore[arg-type]
    )


def dispatch(client, event: ProtoMessage) -> None:
    """Feed `event` to neonize's real dispatch, as the Go callback does."""
    data = event.SerializeToString()
    buf = ctypes.create_string_buffer(data, len(data))
    client.event.execute(0, ctypes.addressof(buf), len(data), EVENT_TO_INT[type(event)])
