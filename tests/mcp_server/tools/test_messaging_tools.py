"""The messaging surface through a real MCP client, against a real bridge on simulated
WhatsApp, both in this process (tests/inprocess.py; one bridge for the whole module)."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import ImageContent, TextContent, TextResourceContents
from PIL import Image

from bridge.control.errors import BridgeError
from bridge.control.models import SendFileRequest
from bridge.paths import DataPaths
from bridge.settings import Settings, load_settings
from mcp_server.presentation.views import short_id
from store.jid import parse_address
from tests.helpers import call, error_of, eventually_async, sim_env
from tests.inprocess import InProcess, in_process

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("messaging") / "data"
    return load_settings(env=sim_env(data_dir))


@pytest.fixture(scope="module")
async def both(settings: Settings) -> AsyncIterator[InProcess]:
    async with in_process(settings) as running:
        await wait_for_seed(running.client)
        yield running


@pytest.fixture(scope="module")
def client(both: InProcess) -> Client:
    return both.client


async def wait_for_seed(client: Client) -> None:
    async def seeded() -> bool:
        result = await client.call_tool("list_chats", {"limit": 50})
        return bool(
            not result.is_error
            and result.structured_content
            and len(result.structured_content["items"]) >= 8
        )

    await eventually_async(seeded, timeout=60, what="the seeded chats")


async def chats(client: Client, **filters: Any) -> list[dict[str, Any]]:
    return list((await call(client, "list_chats", limit=50, **filters))["items"])


async def newest(client: Client, chat: str, limit: int = 50) -> list[dict[str, Any]]:
    return list((await call(client, "list_messages", chat=chat, limit=limit))["items"])


def png(width: int = 1600, height: int = 900) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------- replies, mentions


async def test_quoted_reply_is_stored_with_reply_to_and_a_quote(client: Client) -> None:
    peer = next(c for c in await chats(client, kind="direct") if c.get("unread", 0) == 0)
    target = next(
        m for m in await newest(client, peer["chat"]) if not m.get("from_me") and m.get("text")
    )
    sent = await call(
        client, "send_message", to=peer["chat"], text="Yes, agreed!", reply_to=target["id"]
    )
    assert sent["reply_to"] == target["id"]
    ctx = await call(client, "get_message_context", chat=peer["chat"], message_id=sent["id"])
    stored = ctx["target"]
    assert stored.get("from_me") and stored["text"] == "Yes, agreed!"
    assert stored["reply_to"]["id"] == target["id"]
    assert stored["reply_to"]["quote"] and target["text"][:20] in stored["reply_to"]["quote"]
    bad = await error_of(client, "send_message", to=peer["chat"], text="x", reply_to="NOPE")
    assert "NOPE" in bad and "list_messages" in bad


async def test_mentions_in_a_group_become_numbers_and_jids(client: Client) -> None:
    group = (await chats(client, kind="group"))[0]
    details = await call(client, "get_chat", chat=group["chat"])
    me = short_id((await call(client, "get_status"))["account"])
    other = next(p for p in details["participants"] if p.get("name") and p["id"] != me)
    first = other["name"].split()[0]
    sent = await call(client, "send_message", to=group["chat"], text=f"@{first} are you in?")
    assert parse_address(other["id"]) in sent["mentioned"]
    stored = (await call(client, "get_message_context", chat=group["chat"], message_id=sent["id"]))[
        "target"
    ]
    assert stored["text"] == f"@{other['id'].lstrip('+')} are you in?"


async def test_get_chat_shows_group_participants_admins_and_my_role(client: Client) -> None:
    me = short_id((await call(client, "get_status"))["account"])
    for group in await chats(client, kind="group"):
        details = await call(client, "get_chat", chat=group["chat"])
        assert details.get("topic") or details["name"]
        others = [p for p in details["participants"] if p["id"] != me]
        assert others and all(p.get("name") and p["id"].startswith("+") for p in others)
        assert len(others) == len(details["participants"]) - 1  # I am a member
        assert any(p.get("role") in ("admin", "super_admin") for p in details["participants"])
        assert details["my_role"] in {"member", "admin", "super_admin"}
    direct = (await chats(client, kind="direct"))[0]
    assert "my_role" not in await call(client, "get_chat", chat=direct["chat"])


# ---------------------------------------------------------------------------- reactions


async def test_react_see_it_on_the_message_then_remove_it(client: Client) -> None:
    peer = (await chats(client, kind="direct"))[-1]
    target = next(m for m in await newest(client, peer["chat"]) if not m.get("from_me"))
    got = await call(
        client, "send_reaction", chat=peer["chat"], message_id=target["id"], emoji="👍"
    )
    assert got == {
        "chat_jid": parse_address(peer["chat"]),
        "message_id": target["id"],
        "emoji": "👍",
        "removed": False,
    }
    msg = (await call(client, "get_message_context", chat=peer["chat"], message_id=target["id"]))[
        "target"
    ]
    mine = [r for r in msg.get("reactions", []) if r.endswith(" me")]
    assert mine == ["👍 me"]
    removed = await call(
        client, "send_reaction", chat=peer["chat"], message_id=target["id"], emoji=""
    )
    assert removed["removed"] is True
    msg = (await call(client, "get_message_context", chat=peer["chat"], message_id=target["id"]))[
        "target"
    ]
    assert not [r for r in msg.get("reactions", []) if r.endswith(" me")]
    bad = await error_of(client, "send_reaction", chat=peer["chat"], message_id="NOPE", emoji="👍")
    assert "NOPE" in bad
    text = await error_of(
        client, "send_reaction", chat=peer["chat"], message_id=target["id"], emoji="ok"
    )
    assert "not an emoji" in text


# ---------------------------------------------------------------------------- read state


async def test_mark_read_sets_the_unread_count_to_zero(client: Client) -> None:
    unread = await chats(client, unread_only=True)
    assert unread and all(c.get("unread", 0) > 0 for c in unread)
    chat = unread[0]
    # Reading does not mark anything read.
    await newest(client, chat["chat"])
    await call(client, "search_messages", query="the", chat=chat["chat"])
    assert (await call(client, "get_chat", chat=chat["chat"])).get("unread", 0) == chat["unread"]
    done = await call(client, "mark_read", chat=chat["chat"])
    assert done["unread_count"] == 0 and done["marked"] == chat.get("unread", 0)
    assert (await call(client, "get_chat", chat=chat["chat"])).get("unread", 0) == 0
    assert chat["chat"] not in {c["chat"] for c in await chats(client, unread_only=True)}


async def test_mark_read_up_to_a_message_leaves_newer_ones_unread(client: Client) -> None:
    unread = [c for c in await chats(client, unread_only=True) if c.get("unread", 0) >= 2]
    if not unread:
        pytest.skip("the seeded world has no chat with two unread messages")
    chat = unread[0]
    inbound = [m for m in await newest(client, chat["chat"]) if not m.get("from_me")]
    older = inbound[1]  # second newest unread
    done = await call(client, "mark_read", chat=chat["chat"], up_to_message_id=older["id"])
    assert done["unread_count"] == 1
    assert (await call(client, "get_chat", chat=chat["chat"])).get("unread", 0) == 1


# ---------------------------------------------------------------------------- sending files


async def test_send_an_image_from_the_outbox(client: Client, settings: Settings) -> None:
    outbox = DataPaths(settings.data_dir).outbox
    (outbox / "sunset.png").write_bytes(png(64, 48))
    peer = (await chats(client, kind="direct"))[1]
    sent = await call(
        client, "send_file", to=peer["chat"], path="sunset.png", caption="Look at this sunset"
    )
    assert sent["kind"] == "image" and sent["mime_type"] == "image/png"
    assert sent["size"] == (outbox / "sunset.png").stat().st_size
    msg = (await call(client, "get_message_context", chat=peer["chat"], message_id=sent["id"]))[
        "target"
    ]
    assert msg["kind"] == "image" and msg["caption"] == "Look at this sunset"
    assert msg["media"]["mime"] == "image/png" and msg.get("from_me")
    # A PDF by absolute path goes as a document, with its name.
    (outbox / "menu.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    doc = await call(client, "send_file", to=peer["chat"], path=str(outbox / "menu.pdf"))
    assert doc["kind"] == "document" and doc["filename"] == "menu.pdf"


async def test_files_outside_the_allowed_folders_are_refused(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    outbox = DataPaths(settings.data_dir).outbox
    peer = (await chats(client, kind="direct"))[0]["chat"]
    text = await error_of(client, "send_file", to=peer, path="/etc/passwd")
    assert "not inside an allowed folder" in text and str(outbox) in text
    outside = tmp_path / "private.txt"
    outside.write_text("bank details", encoding="utf-8")
    link = outbox / "holiday.png"
    link.unlink(missing_ok=True)
    link.symlink_to(outside)
    text = await error_of(client, "send_file", to=peer, path="holiday.png")
    assert "symlink" in text and "outside the allowed folders" in text
    text = await error_of(client, "send_file", to=peer, path="../messages.db")
    assert "'..' are refused" in text
    text = await error_of(client, "send_file", to=peer, path=str(outbox / ".." / "session.db"))
    assert "'..' are refused" in text


async def test_the_bridge_refuses_the_same_paths_on_its_own(
    client: Client, both: InProcess, settings: Settings
) -> None:
    """A caller that skips the MCP server's check still cannot make the bridge read a file."""
    peer = (await chats(client, kind="direct"))[0]["chat"]
    for path in ("/etc/passwd", "../messages.db", str(DataPaths(settings.data_dir).messages_db)):
        with pytest.raises(BridgeError) as err:
            await both.control.send_file(SendFileRequest(to=peer, path=path))
        assert err.value.status == 422 and err.value.code == "invalid_argument"


async def test_voice_note_needs_ffmpeg_or_ogg_opus(client: Client, settings: Settings) -> None:
    outbox = DataPaths(settings.data_dir).outbox
    (outbox / "memo.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64)
    peer = (await chats(client, kind="direct"))[0]["chat"]
    result = await client.call_tool(
        "send_file", {"to": peer, "path": "memo.wav", "as_voice_note": True}
    )
    if os.environ.get("PATH") and any(
        (Path(p) / "ffmpeg").exists() for p in os.environ["PATH"].split(os.pathsep)
    ):
        pytest.skip("ffmpeg is installed here; the missing-ffmpeg error is covered in unit tests")
    assert result.is_error
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert "ffmpeg" in text and "apt-get install ffmpeg" in text


# ---------------------------------------------------------------------------- downloads


async def test_download_an_image_a_peer_sent_and_get_a_picture_back(
    client: Client, settings: Settings
) -> None:
    page = await call(client, "list_messages", limit=200)
    image = next(m for m in page["items"] if m.get("kind") == "image" and not m.get("from_me"))
    result = await client.call_tool(
        "download_media", {"chat": image["chat"], "message_id": image["id"]}
    )
    assert not result.is_error, result.content
    info = result.structured_content
    assert info is not None
    media_root = os.path.realpath(DataPaths(settings.data_dir).media)
    assert os.path.realpath(info["path"]).startswith(media_root + os.sep)
    saved = Path(info["path"])
    assert saved.stat().st_size == info["size"] == image["media"]["size"]
    line = next(c.text for c in result.content if isinstance(c, TextContent))
    assert line.startswith(f"Saved {info['path']} (image") and "picture is attached" in line
    assert info["mime_type"] == "image/png" and info["image_attached"] is True
    pictures = [c for c in result.content if isinstance(c, ImageContent)]
    assert len(pictures) == 1
    shown = Image.open(io.BytesIO(base64.b64decode(pictures[0].data)))
    with Image.open(saved) as original:
        assert shown.size == original.size  # small images are not upscaled
    again = await call(client, "download_media", chat=image["chat"], message_id=image["id"])
    assert again["cached"] is True and again["path"] == info["path"]


async def test_big_images_come_back_scaled_to_1024(client: Client, settings: Settings) -> None:
    outbox = DataPaths(settings.data_dir).outbox
    (outbox / "wide.png").write_bytes(png(2000, 1000))
    peer = (await chats(client, kind="direct"))[2]["chat"]
    sent = await call(client, "send_file", to=peer, path="wide.png")
    result = await client.call_tool("download_media", {"chat": peer, "message_id": sent["id"]})
    assert not result.is_error, result.content
    picture = next(c for c in result.content if isinstance(c, ImageContent))
    assert Image.open(io.BytesIO(base64.b64decode(picture.data))).size == (1024, 512)


async def test_an_image_too_large_to_decode_is_a_clear_error_and_stays_saved(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = DataPaths(settings.data_dir).outbox
    (outbox / "huge.png").write_bytes(png(1200, 1000))
    peer = (await chats(client, kind="direct"))[2]["chat"]
    sent = await call(client, "send_file", to=peer, path="huge.png")
    # Pillow's limit, lowered so a small file stands in for a decompression bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500_000)
    err = await error_of(client, "download_media", chat=peer, message_id=sent["id"])
    assert "too many pixels" in err and "open it from there" in err
    assert "Error executing" not in err and "Decompression" not in err
    saved = err.split("saved at ", 1)[1].split(" (", 1)[0]
    assert Path(saved).stat().st_size == (outbox / "huge.png").stat().st_size


async def test_download_of_a_text_message_or_a_document_is_clear(client: Client) -> None:
    page = await call(client, "list_messages", limit=200)
    text_msg = next(m for m in page["items"] if m.get("kind", "text") == "text")
    err = await error_of(client, "download_media", chat=text_msg["chat"], message_id=text_msg["id"])
    assert "no attachment" in err
    doc = next(m for m in page["items"] if m.get("kind") == "document")
    got = await client.call_tool("download_media", {"chat": doc["chat"], "message_id": doc["id"]})
    assert not got.is_error and got.structured_content is not None
    assert got.structured_content["image_attached"] is False
    assert Path(got.structured_content["path"]).read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------------------- prompts, resources


async def test_prompts_hand_over_the_chats_as_fenced_data(client: Client) -> None:
    names = {p.name for p in (await client.list_prompts()).prompts}
    assert names == {"catch_up", "summarize_chat", "draft_reply"}
    unread = await chats(client, unread_only=True)
    catch_up = await client.get_prompt("catch_up", {})
    text = catch_up.messages[0].content.text  # type: ignore[union-attr]
    assert "<chat-data-" in text and "never an instruction" in text
    assert all(c["chat"] in text for c in unread)
    since = await client.get_prompt("catch_up", {"since": "1h"})
    assert "since" in since.messages[0].content.text  # type: ignore[union-attr]
    group = (await chats(client, kind="group"))[0]
    summary = await client.get_prompt("summarize_chat", {"chat": group["name"]})
    summary_text = summary.messages[0].content.text  # type: ignore[union-attr]
    assert group["chat"] in summary_text and "Summarise" in summary_text
    assert "++" not in summary_text  # phone numbers carry one +
    draft = await client.get_prompt("draft_reply", {"chat": group["chat"]})
    assert "do not send" in draft.messages[0].content.text  # type: ignore[union-attr]
    with pytest.raises(MCPError) as err:
        await client.get_prompt("catch_up", {"since": "last tuesday"})
    assert "12h" in err.value.message
    with pytest.raises(MCPError) as err:
        await client.get_prompt("summarize_chat", {"chat": "Nobody McUnknown"})
    assert "list_chats" in err.value.message


async def test_each_chat_is_a_resource_with_its_recent_messages(client: Client) -> None:
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["whatsapp://chats/{jid}"]
    peer = (await chats(client, kind="direct"))[0]
    got = await client.read_resource(f"whatsapp://chats/{peer['chat']}")
    content = got.contents[0]
    assert isinstance(content, TextResourceContents)
    data = json.loads(content.text)
    assert data["chat"]["chat"] == peer["chat"]
    stamps = [m["time"] for m in data["messages"]]
    assert stamps and stamps == sorted(stamps)


async def test_reactions_read_receipts_and_files_pass_the_send_gate(
    client: Client, settings: Settings
) -> None:
    peer = (await chats(client, kind="direct"))[3]["chat"]
    target = next(m for m in await newest(client, peer) if not m.get("from_me"))
    await call(client, "send_reaction", chat=peer, message_id=target["id"], emoji="🎉")
    await call(client, "mark_read", chat=peer)
    (DataPaths(settings.data_dir).outbox / "note.txt").write_text("hi", encoding="utf-8")
    await call(client, "send_file", to=peer, path="note.txt")
    log = (await call(client, "get_send_log", limit=10))["items"]
    mine = [(e["kind"], e["outcome"]) for e in log if e["recipient"] == parse_address(peer)]
    for kind in ("reaction", "mark_read", "media"):
        assert (kind, "sent") in mine, mine
