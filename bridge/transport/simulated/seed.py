"""A deterministic, seeded WhatsApp network for the simulated transport.

Two things live here:

- `build_world(seed=…, now=…)`: a small, hand-written social network (friends, family, a landlord,
  a dentist, colleagues, a football group) with about 300 messages over the last 30 days, media
  with real bytes, replies, reactions and unread counts. Enough for a demo and for tests that
  search for "dinner", "rent", "dentist" or "café".
- `synthetic_history(n, seed=…, now=…)`: any number of extra messages over many synthetic chats,
  with Zipf-distributed words, streamed as `HistoryBatch`es. The benchmarks use it directly.

Everything is a pure function of the seed and the `now` anchor: no wall clock, no global RNG.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from store.models import (
    ChatRecord,
    ContactRecord,
    GroupParticipantRecord,
    GroupRecord,
    HistoryBatch,
    MediaInfo,
    MessageKind,
    MessageRecord,
    ReactionRecord,
    utc,
)

DEFAULT_ACCOUNT_JID = "15550000000@s.whatsapp.net"
ME = "me"
_USER = "@s.whatsapp.net"

# ------------------------------------------------------------------------------ identifiers


def message_id(rng: random.Random) -> str:
    """An id shaped like one WhatsApp Web assigns: "3EB0" and 16 upper-case hex digits."""
    return f"3EB0{rng.getrandbits(64):016X}"


# ------------------------------------------------------------------------------ media bytes


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG: a vertical gradient from `rgb` to black."""
    rows = bytearray()
    for y in range(height):
        shade = 1 - y / (2 * height)
        pixel = bytes(int(c * shade) for c in rgb)
        rows += b"\x00" + pixel * width  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def tiny_pdf(title: str, body: str) -> bytes:
    """A one-page PDF 1.4 with a correct xref table, readable by any viewer."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ascii_title = esc(title.encode("ascii", "replace").decode())
    ascii_body = esc(body.encode("ascii", "replace").decode())
    stream = (
        f"BT /F1 18 Tf 72 720 Td ({ascii_title}) Tj ET\n"
        f"BT /F1 11 Tf 72 690 Td ({ascii_body}) Tj ET\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _ogg_crc(data: bytes) -> int:
    # Ogg uses CRC-32 with polynomial 0x04C11DB7, not reflected, initial value 0.
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(payload: bytes, *, serial: int, sequence: int, flags: int, granule: int) -> bytes:
    segments = [255] * (len(payload) // 255) + [len(payload) % 255]
    header = (
        b"OggS"
        + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0)
        + bytes([len(segments)])
        + bytes(segments)
    )
    crc = _ogg_crc(header + payload)
    return header[:22] + struct.pack("<I", crc) + header[26:] + payload


def tiny_ogg_opus(seconds: int, serial: int) -> bytes:
    """The header pages of an Ogg/Opus voice note (no audio frames): WhatsApp's voice format."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 16000, 0, 0)
    vendor = b"whatsapp-mcp simulated"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    return _ogg_page(head, serial=serial, sequence=0, flags=0x02, granule=0) + _ogg_page(
        tags, serial=serial, sequence=1, flags=0x04, granule=seconds * 48000
    )


# ------------------------------------------------------------------------------ people


@dataclass(frozen=True)
class Person:
    key: str
    phone: str  # digits with country code, no "+"
    push_name: str
    saved_name: str | None = None
    business_name: str | None = None
    lid: str | None = None
    # Canned lines this person answers with when nothing in the message calls for more.
    replies: tuple[str, ...] = ("Sounds good 👍", "Ok, talk later!", "Haha yes", "Got it, thanks!")
    answers: bool = True

    @property
    def jid(self) -> str:
        return self.phone + _USER

    @property
    def name(self) -> str:
        return self.saved_name or self.push_name

    def contact(self) -> ContactRecord:
        return ContactRecord(
            jid=self.jid,
            lid=self.lid,
            saved_name=self.saved_name,
            push_name=self.push_name,
            business_name=self.business_name,
        )


PEOPLE: tuple[Person, ...] = (
    Person(
        "maria",
        "15550100143",
        "María",
        "Maria García",
        replies=("Yesss 🙌", "Love that", "Haha you're the best", "Ok! Let me check with Leo"),
    ),
    Person(
        "tom",
        "447700900418",
        "Tom B",
        "Tom Becker (Landlord)",
        replies=("Thanks for letting me know.", "Noted, I'll get back to you this week."),
    ),
    Person(
        "okafor",
        "15550100177",
        "Okafor Family Dentistry",
        "Dr. Okafor Dentist",
        business_name="Okafor Family Dentistry",
        replies=(
            "Thank you for your message. Our reception team answers Mon–Fri, 8:00–18:00.",
            "Thank you! A member of our team will confirm shortly.",
        ),
    ),
    Person("priya", "447700900265", "Priya", "Priya Raman"),
    Person("kenji", "15550100129", "Kenji 渡辺", "Kenji Watanabe"),
    Person("mom", "15550100110", "Helen Carter", "Mom", replies=("Love you ❤️", "Ok darling x")),
    Person("dad", "447700900014", "Richard Carter", "Dad"),
    Person("ana", "447700900552", "Ana 🌻", "Ana Carter"),
    Person("lukas", "447700900731", "Lukas Schneider"),
    Person("jamal", "15550100188", "J. Wright"),
    # Sofía writes in the football group under her LID alias: the store must map it to her number.
    Person("sofia", "447700900396", "Sofía Rossi", lid="204882345678901@lid"),
    Person("noah", "15550100164", "Noah K."),
)
_BY_KEY = {p.key: p for p in PEOPLE}

FAMILY_GROUP = "120363041234567890@g.us"
FOOTBALL_GROUP = "120363059876543210@g.us"


@dataclass(frozen=True)
class _Group:
    jid: str
    name: str
    topic: str
    members: tuple[tuple[str, bool, bool], ...]  # (person key or ME, is_admin, is_super_admin)


GROUPS: tuple[_Group, ...] = (
    _Group(
        FAMILY_GROUP,
        "Family 🏡",
        "Sunday lunch rota, birthdays and far too many photos",
        (("mom", True, True), (ME, True, False), ("dad", False, False), ("ana", False, False)),
    ),
    _Group(
        FOOTBALL_GROUP,
        "Sunday Football ⚽",
        "Sundays 10:00 at Riverside Park. Bring a light and a dark shirt.",
        (
            ("lukas", True, True),
            ("jamal", True, False),
            ("sofia", False, False),
            ("kenji", False, False),
            ("maria", False, False),
            (ME, False, False),
        ),
    ),
)


# ------------------------------------------------------------------------------ scripts


@dataclass(frozen=True)
class _Line:
    who: str  # person key or ME
    text: str
    kind: MessageKind = MessageKind.text
    reply: int | None = None  # index of the quoted line in the same thread
    react: tuple[str, str] | None = None  # (who, emoji)
    filename: str | None = None
    seconds: int | None = None


_t = _Line  # short name for the scripts below


@dataclass(frozen=True)
class _Thread:
    chat: str  # person key (direct chat) or group JID
    days_ago: int
    hour: float  # local hour of the day; with days_ago == 0: hours before now
    lines: tuple[_Line, ...]


_IMG, _DOC, _VOICE = MessageKind.image, MessageKind.document, MessageKind.voice

# fmt: off
THREADS: tuple[_Thread, ...] = (
    # ---- Maria: dinner plans
    _Thread("maria", 27, 18.5, (
        _t("maria", "Hey! Are we still on for dinner this Friday?"),
        _t(ME, "Yes! Where do you want to go?"),
        _t("maria", "What about that new Thai place on Elm Street?"),
        _t(ME, "Perfect. 7:30?"),
        _t("maria", "7:30 works. I'll book a table for 4, Ana and Leo are coming too"),
        _t(ME, "Great, see you there 🙌"),
    )),
    _Thread("maria", 24, 10.2, (
        _t("maria", "The whole crew at Baan Thai 🍜 dinner was amazing, thanks for organising!",
           kind=_IMG, filename="IMG-20240301-WA0007.jpg", react=(ME, "❤️")),
        _t(ME, "Such a fun night. We should make dinner a monthly thing", reply=0),
        _t("maria", "100%. Next one is at ours"),
    )),
    _Thread("maria", 6, 20.0, (
        _t("maria", "Dinner at ours next Saturday? Leo wants to try his new paella pan"),
        _t(ME, "Count me in! Should I bring dessert or wine?"),
        _t("maria", "Dessert please 🍰 Leo has the wine covered"),
        _t(ME, "Deal. Any allergies I should know about?"),
        _t("maria", "Ana is off nuts, otherwise anything goes", reply=3),
    )),
    _Thread("maria", 0, 2.0, (
        _t("maria", "Also, are you free for a run tomorrow morning?"),
        _t("maria", "Thinking 7am at the park, then coffee"),
    )),
    # ---- Tom: rent and repairs
    _Thread("tom", 29, 9.0, (
        _t("tom", "Hi, just a reminder that rent is due on the 1st. Transfer to the usual account "
                  "please."),
        _t(ME, "Hi Tom, will do. Also, the boiler has been making a banging noise since Sunday"),
        _t("tom", "Thanks for letting me know. I'll send a plumber round, does Thursday morning "
                  "work?"),
        _t(ME, "Thursday morning is fine, I work from home that day"),
    )),
    _Thread("tom", 25, 14.0, (
        _t("tom", "Plumber says the boiler pressure was low, all fixed now. Let me know if it "
                  "happens again."),
        _t(ME, "Working perfectly, thank you!"),
    )),
    _Thread("tom", 3, 11.0, (
        _t("tom", "Hi, heads up: the rent will go up by £40 from next month, in line with the "
                  "contract review."),
        _t("tom", "Here's the letter with the new rent figures", kind=_DOC,
           filename="Rent_Review_Letter.pdf"),
        _t(ME, "Hi Tom, thanks for the notice. Can we talk about it? The kitchen window still "
               "doesn't close properly.", reply=0),
        _t("tom", "Fair point. I'll get the window repaired this week and we can discuss the rent "
                  "after."),
        _t(ME, "Thanks, that sounds fair"),
    )),
    _Thread("tom", 1, 17.0, (
        _t("tom", "Window repair guy is coming Wednesday between 10 and 12, is that ok?"),
    )),
    # ---- Dentist
    _Thread("okafor", 20, 8.0, (
        _t("okafor", "Hello from Okafor Family Dentistry! This is a reminder of your dentist "
                     "appointment on Tuesday at 09:15 with Dr. Okafor. Reply YES to confirm or "
                     "call us to reschedule."),
        _t(ME, "YES"),
        _t("okafor", "Thank you, your appointment is confirmed. Please arrive 10 minutes early."),
    )),
    _Thread("okafor", 13, 12.5, (
        _t(ME, "Hi, I need to move my dentist appointment, something came up at work. Is "
               "anything free next week?"),
        _t("okafor", "We have Thursday at 16:40 or Friday at 08:30. Which would you prefer?"),
        _t(ME, "Friday 08:30 please"),
        _t("okafor", "Done! Your appointment is now Friday at 08:30. See you then 😊"),
    )),
    _Thread("okafor", 2, 9.5, (
        _t("okafor", "Reminder: your 6-month check-up and cleaning is due. Book online or reply "
                     "here with a preferred day."),
    )),
    # ---- Work
    _Thread("priya", 22, 9.0, (
        _t("priya", "Morning! Standup in 5, joining from the train so I'll be on mute"),
        _t(ME, "No worries, I'll share my screen for the sprint board"),
    )),
    _Thread("priya", 21, 9.4, (
        _t("priya", "Standup notes: API migration done, Kenji is blocked on the staging deploy, "
                    "demo moved to Thursday"),
        _t(ME, "Thanks! I'll pair with Kenji after lunch"),
    )),
    _Thread("priya", 15, 16.0, (
        _t("priya", "Whiteboard from the planning session, don't erase!!", kind=_IMG,
           filename="IMG-20240310-WA0002.jpg"),
        _t(ME, "Saved, thanks. I'll turn it into tickets", reply=0),
    )),
    _Thread("priya", 8, 18.0, (
        _t(ME, "Can we skip standup tomorrow? Half the team is at the offsite"),
        _t("priya", "Good call, async updates in the channel instead", react=(ME, "👍")),
    )),
    _Thread("priya", 1, 19.0, (
        _t("priya", "Quick one: can you review my PR before standup tomorrow? It's the rate "
                    "limiter change"),
        _t(ME, "On it, will have comments by tonight"),
        _t("priya", "You're a star ⭐"),
    )),
    _Thread("kenji", 21, 11.0, (
        _t("kenji", "Staging deploy is failing again, the migration times out after 30s"),
        _t(ME, "Try bumping the statement timeout, I'll look at the query after standup"),
        _t("kenji", "That did it, deploy is green ✅", react=(ME, "🎉")),
    )),
    _Thread("kenji", 10, 15.0, (
        _t("kenji", "", kind=_VOICE, seconds=23),
        _t(ME, "Just listened, yes let's go with option B for the cache", reply=0),
    )),
    _Thread("kenji", 4, 20.5, (
        _t("kenji", "Are you coming to football on Sunday? We need one more"),
        _t(ME, "Yes, I'll be there"),
    )),
    # ---- Family
    _Thread("mom", 18, 19.0, (
        _t("mom", "Hi love, did you get my email about Grandma's birthday?"),
        _t(ME, "Yes! I'll call her on the day. Are we doing lunch?"),
        _t("mom", "Sunday lunch at ours, 1pm. Can you bring the cake from the bakery?"),
        _t(ME, "Of course ❤️"),
    )),
    _Thread("mom", 5, 18.0, (
        _t("mom", "Your dad says hi. Don't forget your dentist appointment!"),
        _t(ME, "Haha I won't, it's already done 😄"),
    )),
    _Thread("dad", 14, 10.0, (
        _t("dad", "Can you help me set up the new printer this weekend?"),
        _t(ME, "Sure, Saturday afternoon?"),
        _t("dad", "Perfect, your mum will make lunch"),
    )),
    _Thread("ana", 16, 21.0, (
        _t("ana", "Sending you the photos for grandma's book now"),
        _t("ana", "Do you have Mum's recipe for the lemon cake?"),
        _t(ME, "Not written down, ask her 😄"),
    )),
    _Thread(FAMILY_GROUP, 19, 20.0, (
        _t("mom", "Grandma turns 90 on the 21st! Ideas for a present?"),
        _t("ana", "A photo book with pictures of all of us?"),
        _t("dad", "Great idea. I can scan the old albums"),
        _t(ME, "I'll design it, send me your favourite photos", reply=1),
    )),
    _Thread(FAMILY_GROUP, 17, 12.0, (
        _t("dad", "Found this one from 1978 😂", kind=_IMG, filename="IMG-19780612-SCAN.jpg",
           react=(ME, "😂")),
        _t("ana", "Dad's hair!!!", reply=0),
        _t("mom", "I still have that jacket"),
    )),
    _Thread(FAMILY_GROUP, 11, 21.0, (
        _t("mom", "Lunch on Sunday was lovely, Grandma cried at the photo book 🥹"),
        _t("ana", "Grandma with her photo book ❤️", kind=_IMG, filename="IMG-20240317-WA0011.jpg",
           react=("mom", "❤️")),
        _t("dad", "Best family day in ages"),
    )),
    _Thread(FAMILY_GROUP, 2, 19.5, (
        _t("ana", "Who's hosting Christmas this year? I hosted last time 😅"),
        _t("mom", "We'll do it at ours"),
        _t("dad", "I'll start planning the menu"),
    )),
    # ---- Football
    _Thread(FOOTBALL_GROUP, 26, 18.0, (
        _t("lukas", "Pitch booked for Sunday 10:00 at Riverside Park ⚽ Who's in?"),
        _t("jamal", "In"),
        _t("sofia", "In! Bringing a friend if that's ok"),
        _t("kenji", "👍 in"),
        _t(ME, "In"),
    )),
    _Thread(FOOTBALL_GROUP, 19, 13.0, (
        _t("lukas", "Great game today! Final score 5–3 to the darks 💪"),
        _t("jamal", "My knee disagrees"),
        _t("sofia", "Who's up for coffee after next week's game? I know a café near the park"),
    )),
    _Thread(FOOTBALL_GROUP, 12, 12.0, (
        _t("sofia", "The café is Café Lumière on Rose Street 😄 best croissants in town"),
        _t("maria", "Going there tomorrow! Thanks for the café tip", reply=0),
    )),
    _Thread(FOOTBALL_GROUP, 5, 17.0, (
        _t("lukas", "Match fees: £6 each for this month, send to me please"),
        _t("jamal", "Sent"),
        _t(ME, "Sent too", react=("lukas", "🙏")),
    )),
    _Thread(FOOTBALL_GROUP, 0, 3.0, (
        _t("lukas", "Rain forecast for Sunday ☔ we'll decide Saturday evening"),
        _t("jamal", "Let's play anyway, it's only water"),
        _t("sofia", "Agree with Jamal 😂"),
    )),
    # ---- Others
    _Thread("sofia", 12, 10.0, (
        _t("sofia", "Hey, it's Sofía from football! Lukas gave me your number. You asked about a "
                    "good café for working?"),
        _t(ME, "Yes! Somewhere quiet with wifi"),
        _t("sofia", "Try Café Lumière on Rose Street. Great flat white, quiet before 11, and the "
                    "wifi actually works"),
        _t(ME, "Amazing, thank you! Going Monday"),
    )),
    _Thread("sofia", 9, 11.0, (
        _t(ME, "Café Lumière was perfect, I'm a regular now ☕", react=("sofia", "❤️")),
        _t("sofia", "Told you! Try the almond croissant next time"),
    )),
    _Thread("jamal", 20, 22.0, (
        _t("jamal", "Hey it's Jamal from football, do you still have my shin pads?"),
        _t(ME, "Yes! I'll bring them Sunday"),
    )),
    _Thread("noah", 7, 13.0, (
        _t("noah", "Hi, is the bike you posted still available?"),
        _t(ME, "Yes it is! £150, collection only"),
        _t("noah", "Could you do £120?"),
        _t(ME, "£135 and it's yours"),
        _t("noah", "Deal, can I pick it up Saturday?"),
        _t(ME, "Saturday after 2pm works. The address is in the listing"),
    )),
)
# fmt: on

# Small talk that fills the month around the scripted threads: (opener, answer).
_SMALL_TALK: tuple[tuple[str, str], ...] = (
    ("Morning! How's your week going?", "Busy but good, you?"),
    ("Did you watch the match last night?", "Only the second half, what a finish"),
    ("Running 10 minutes late, sorry!", "No rush, I just got here too"),
    ("Happy Friday 🎉", "Finally! Any plans for the weekend?"),
    ("Have you started the new season of that show?", "Not yet, no spoilers please 🙈"),
    ("Thanks again for yesterday", "Anytime!"),
    ("Are you around for a quick call later?", "Sure, after 5 works"),
    ("Just landed ✈️", "Welcome back! How was the trip?"),
    ("Can you send me that article again?", "Here you go: https://example.com/long-read"),
    ("Good luck with the presentation today!", "Thank you, nervous but ready"),
    ("Is it raining where you are?", "Pouring. Staying in with a book"),
    ("I'm making soup, want some?", "Yes please, I'll come by at 6"),
    ("Do you know a good plumber?", "Tom's guy was great, I'll send you his number"),
    ("What was the name of that podcast you mentioned?", "The one about the history of maps!"),
    ("Look at this sunset 🌅", "Wow, where is that?"),
    ("Are we still on for tomorrow?", "Yes, same time as usual"),
    ("Did you get home ok?", "Yes, thanks for the lift!"),
    ("Happy birthday!! 🎂", "Thank you so much 🥰"),
    ("Where did you get that lamp?", "Flea market on Saturday, it was a bargain"),
    ("Can I borrow your drill this weekend?", "Of course, come grab it anytime"),
)
_GROUP_CHATTER: dict[str, tuple[str, ...]] = {
    FAMILY_GROUP: (
        "Anyone want the leftover lasagne?",
        "Who has the spare key to the garage?",
        "Happy anniversary Mum and Dad ❤️",
        "Reminder: Grandma's doctor appointment is on Thursday",
        "The cat knocked over the plant again 🙄",
        "Call me when you're free",
        "Look what came up in my memories today",
        "Safe travels!",
    ),
    FOOTBALL_GROUP: (
        "Who has the ball pump?",
        "Can't make it this week, sorry lads",
        "Same time next Sunday?",
        "Great game today, well played everyone",
        "Did anyone find a grey hoodie at the pitch?",
        "I'll bring the cones",
        "Goal of the season from Jamal 🔥",
        "Pitch is waterlogged, moving to the indoor hall",
    ),
}
_DIRECT_FILLER_KEYS = ("maria", "priya", "kenji", "mom", "dad", "ana", "sofia", "jamal")
SEED_MESSAGE_TARGET = 300


# ------------------------------------------------------------------------------ the world


@dataclass
class SeedWorld:
    """The seeded network: what the transport reports as contacts, groups and history."""

    account_jid: str
    now: datetime
    people: list[Person]
    contacts: list[ContactRecord]
    groups: list[GroupRecord]
    chats: list[ChatRecord]
    messages: list[MessageRecord]  # oldest first
    reactions: list[ReactionRecord]
    media: dict[str, bytes] = field(default_factory=dict)  # message id → attachment bytes

    def history_batches(self, batch_size: int) -> list[HistoryBatch]:
        """The messages in chronological batches, each with the records of the chats it touches."""
        chats = {c.jid: c for c in self.chats}
        batches = []
        for start in range(0, len(self.messages), batch_size):
            chunk = self.messages[start : start + batch_size]
            touched = dict.fromkeys(m.chat_jid for m in chunk)
            batches.append(HistoryBatch(chats=[chats[j] for j in touched], messages=chunk))
        return batches


class _WorldBuilder:
    def __init__(self, seed: int, now: datetime, account_jid: str) -> None:
        self.rng = random.Random(f"world/{seed}")
        self.now = utc(now).replace(microsecond=0)
        self.account_jid = account_jid
        self.messages: list[MessageRecord] = []
        self.reactions: list[ReactionRecord] = []
        self.media: dict[str, bytes] = {}

    def jid_of(self, who: str) -> str:
        return self.account_jid if who == ME else _BY_KEY[who].jid

    def sender_of(self, who: str, chat: str) -> str:
        # In the football group Sofía appears under her LID, as WhatsApp's LID groups do.
        person = None if who == ME else _BY_KEY[who]
        if person is not None and person.lid and chat == FOOTBALL_GROUP:
            return person.lid
        return self.jid_of(who)

    def start_of(self, days_ago: int, hour: float) -> datetime:
        if days_ago == 0:
            return self.now - timedelta(hours=hour)
        midnight = self.now.replace(hour=0, minute=0, second=0)
        return midnight - timedelta(days=days_ago) + timedelta(hours=hour)

    def media_for(self, line: _Line, mid: str) -> MediaInfo:
        if line.kind is MessageKind.image:
            width, height = 64, 48
            rgb = (
                self.rng.randrange(60, 256),
                self.rng.randrange(60, 256),
                self.rng.randrange(256),
            )
            data, mime = tiny_png(width, height, rgb), "image/png"
        elif line.kind is MessageKind.document:
            width = height = None
            data = tiny_pdf(line.filename or "Document", line.text)
            mime = "application/pdf"
        else:
            width = height = None
            data = tiny_ogg_opus(line.seconds or 1, serial=self.rng.getrandbits(32))
            mime = "audio/ogg; codecs=opus"
        self.media[mid] = data
        return MediaInfo(
            mime_type=mime,
            filename=line.filename if line.kind is MessageKind.document else None,
            file_size=len(data),
            seconds=line.seconds,
            width=width,
            height=height,
            direct_path=f"/v/t62.7118-24/sim/{mid}",
            media_key=base64.b64encode(self.rng.randbytes(32)).decode(),
            file_sha256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        )

    def add_thread(self, chat: str, start: datetime, lines: tuple[_Line, ...]) -> None:
        ids: list[str] = []
        senders: list[str] = []
        ts = start.replace(second=self.rng.randrange(60), microsecond=0)
        for line in lines:
            mid = message_id(self.rng)
            sender = self.sender_of(line.who, chat)
            quoted = line.reply
            is_media = line.kind is not MessageKind.text
            record = MessageRecord(
                id=mid,
                chat_jid=chat,
                sender=sender,
                sender_name=None if line.who == ME else _BY_KEY[line.who].push_name,
                content=None if is_media else line.text,
                is_from_me=line.who == ME,
                kind=line.kind,
                caption=(line.text or None) if is_media else None,
                media=self.media_for(line, mid) if is_media else None,
                reply_to_id=ids[quoted] if quoted is not None else None,
                reply_to_sender=senders[quoted] if quoted is not None else None,
                timestamp=ts,
            )
            self.messages.append(record)
            if line.react:
                who, emoji = line.react
                self.reactions.append(
                    ReactionRecord(
                        chat_jid=chat,
                        message_id=mid,
                        sender=self.jid_of(who),
                        emoji=emoji,
                        timestamp=ts + timedelta(minutes=self.rng.randint(1, 30)),
                    )
                )
            ids.append(mid)
            senders.append(sender)
            ts += timedelta(seconds=self.rng.randint(20, 420))

    def add_filler(self) -> None:
        """Small talk on days 4–29 (never the last days, so scripted unread counts hold)."""
        group_jids = list(_GROUP_CHATTER)
        while len(self.messages) < SEED_MESSAGE_TARGET:
            day, hour = self.rng.randint(4, 29), self.rng.uniform(8, 22)
            if self.rng.random() < 0.25:
                chat = self.rng.choice(group_jids)
                members = [m[0] for m in next(g for g in GROUPS if g.jid == chat).members]
                lines = tuple(
                    _Line(self.rng.choice(members), self.rng.choice(_GROUP_CHATTER[chat]))
                    for _ in range(self.rng.randint(1, 3))
                )
            else:
                key = self.rng.choice(_DIRECT_FILLER_KEYS)
                chat = _BY_KEY[key].jid
                opener, answer = self.rng.choice(_SMALL_TALK)
                first, second = (key, ME) if self.rng.random() < 0.6 else (ME, key)
                quote = 0 if self.rng.random() < 0.15 else None
                lines = (_Line(first, opener), _Line(second, answer, reply=quote))
            self.add_thread(chat, self.start_of(day, hour), lines)

    def chats(self) -> list[ChatRecord]:
        by_chat: dict[str, list[MessageRecord]] = {}
        for m in self.messages:
            by_chat.setdefault(m.chat_jid, []).append(m)
        groups = {g.jid: g for g in GROUPS}
        people = {p.jid: p for p in PEOPLE}
        out = []
        for jid, msgs in by_chat.items():
            # Unread: what the peer wrote after my last message, if it is recent (I would have
            # opened an older chat by now).
            unread = 0
            if self.now - msgs[-1].timestamp < timedelta(days=3):
                unread = len(list(itertools.takewhile(lambda m: not m.is_from_me, reversed(msgs))))
            group = groups.get(jid)
            out.append(
                ChatRecord(
                    jid=jid,
                    name=group.name if group else people[jid].saved_name,
                    is_group=group is not None,
                    unread_count=unread,
                    last_message_at=msgs[-1].timestamp,
                    topic=group.topic if group else None,
                )
            )
        return out


def build_world(*, seed: int, now: datetime, account_jid: str = DEFAULT_ACCOUNT_JID) -> SeedWorld:
    """The seeded network as of `now`: the same seed and `now` always give the same world."""
    b = _WorldBuilder(seed, now, account_jid)
    for thread in THREADS:
        chat = thread.chat if "@" in thread.chat else _BY_KEY[thread.chat].jid
        b.add_thread(chat, b.start_of(thread.days_ago, thread.hour), thread.lines)
    b.add_filler()
    b.messages.sort(key=lambda m: m.timestamp)
    groups = [
        GroupRecord(
            jid=g.jid,
            name=g.name,
            topic=g.topic,
            participants=[
                GroupParticipantRecord(
                    jid=b.jid_of(key),
                    lid=None if key == ME else _BY_KEY[key].lid,
                    is_admin=admin,
                    is_super_admin=super_admin,
                    display_name=None if key == ME else _BY_KEY[key].push_name,
                )
                for key, admin, super_admin in g.members
            ],
        )
        for g in GROUPS
    ]
    return SeedWorld(
        account_jid=account_jid,
        now=b.now,
        people=list(PEOPLE),
        contacts=[p.contact() for p in PEOPLE],
        groups=groups,
        chats=b.chats(),
        messages=b.messages,
        reactions=sorted(b.reactions, key=lambda r: r.timestamp),
        media=b.media,
    )


# ------------------------------------------------------------------------------ peer answers

_TOPICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("dinner", "lunch", "eat"), "{Gist}? Sounds delicious 🍝 what time suits you?"),
    (("rent", "repair", "boiler", "window"), "Thanks, I'll look into it (“{gist}”) this week."),
    (("dentist", "appointment", "check-up"), "Noted: “{gist}”. We'll confirm your appointment."),
    (("football", "game", "match", "sunday"), "Count me in ⚽"),
    (("café", "cafe", "coffee"), "Always up for coffee ☕ Café Lumière?"),
    (("thank", "thanks"), "You're welcome! 😊"),
)


def _gist(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text.rstrip("?!.")
    return text[:limit].rsplit(" ", 1)[0] + "…"


def compose_reply(person: Person, text: str, count: int) -> str:
    """A plausible answer from `person` to `text`, the `count`-th answer this session.

    Deterministic (crc32, not the salted built-in hash) so a replayed session answers the same.
    """
    lowered = text.lower()
    if person.business_name:
        return person.replies[count % len(person.replies)]
    for words, template in _TOPICS:
        if any(w in lowered for w in words):
            gist = _gist(text)
            return template.format(gist=gist, Gist=gist[:1].upper() + gist[1:])
    if text.rstrip().endswith("?"):
        return f"Good question! Let me check about “{_gist(text)}” and get back to you."
    pool = (*person.replies, f"Haha, “{_gist(text, 30)}” 😄")
    return pool[(zlib.crc32(text.encode()) + count) % len(pool)]


# ------------------------------------------------------------------------------ synthetic history

_COMMON_WORDS = (
    "the to I you and a it is that of in for me my on have be we this with so just what not "
    "do at but are ok can was will no yes get all your like if know up go how there it's out "
    "good about today now one they time see when then too lol think i'm he she tomorrow back "
    "need did want from going come really love got here well thanks some don't home work "
    "would make why sure right still morning night after more let's should call day week "
    "later tonight yeah them our great maybe been also take sorry were where happy could "
    "look new oh over only much dinner food coffee weekend meeting done ready late free "
    "nice tell thing next leave soon around already first send photo haha never any way"
).split()
_SYLLABLES = (
    "ka ri mo ta ne lu so vi de pa zu ra mi to ke no be la sa fi ga do ru me chi ko na "
    "ven tor mar lin qua bel dor fen"
).split()
_FIRST_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Lucas Mia Mateo Isabella Levi "
    "Aisha Omar Yuki Hiro Chloe Arjun Zara Diego Fatima Ivan Leila Tariq Ingrid Sven Nia Kofi"
).split()
_LAST_NAMES = (
    "Smith Jones Patel Kim Nguyen Müller Rossi Dubois Silva Khan Novak Haddad Sato Okoye "
    "Larsen Costa Ibrahim Schmidt Moreau Kowalski Ortiz Chen Fischer Andersen Mensah Reyes"
).split()
ZIPF_EXPONENT = 1.1
_PSEUDO_WORDS = 3000
_SPAN = timedelta(days=730)
# Multiplying a counter by an odd constant is a bijection mod 2**64: unique ids that look random.
_ID_MIX = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def zipf_vocabulary(seed: int) -> list[str]:
    """Common English words first (the most frequent ranks), then pseudo-words."""
    rng = random.Random(f"vocab/{seed}")
    words: list[str] = list(dict.fromkeys(_COMMON_WORDS))
    seen = set(words)
    while len(words) < len(_COMMON_WORDS) + _PSEUDO_WORDS:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def synthetic_chat_count(n: int) -> int:
    return max(1, round(n / 100))


def synthetic_person(index: int, rng: random.Random) -> Person:
    """The `index`-th synthetic contact: +1 555 3xx xxxx numbers, 70% saved, 30% push name only."""
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    saved = rng.random() < 0.7
    return Person(
        key=f"synthetic{index}",
        phone=f"1555{3_000_000 + index:07d}",
        push_name=name.split()[0] if saved else name,
        saved_name=name if saved else None,
        answers=False,
    )


def synthetic_history(
    n: int,
    *,
    seed: int,
    now: datetime,
    batch_size: int = 5000,
    account_jid: str = DEFAULT_ACCOUNT_JID,
) -> Iterator[HistoryBatch]:
    """`n` messages over `synthetic_chat_count(n)` direct chats in the ~2 years before `now`.

    Oldest first. A chat's `ChatRecord` and `ContactRecord` come in the batch of its first
    message. Words follow a Zipf law (rank^-1.1) and chats a flatter one (rank^-0.6), so a few
    words and a few chats dominate as in real history. About 5 µs per message.
    """
    if n < 0 or batch_size < 1:
        raise ValueError("n must be >= 0 and batch_size >= 1")
    rng = random.Random(f"synthetic/{seed}")
    vocab = zipf_vocabulary(seed)
    word_cum = list(itertools.accumulate(r**-ZIPF_EXPONENT for r in range(1, len(vocab) + 1)))
    n_chats = synthetic_chat_count(n)
    chat_cum = list(itertools.accumulate(r**-0.6 for r in range(1, n_chats + 1)))
    id_key = rng.getrandbits(64)
    people: dict[int, Person] = {}
    last: dict[int, tuple[str, str]] = {}  # chat → (id, sender) of its latest message
    end = int(utc(now).timestamp())
    start = end - int(_SPAN.total_seconds())
    step = (end - start) / max(n, 1)
    tz = timezone.utc
    expo, rand = rng.expovariate, rng.random

    for first in range(0, n, batch_size):
        count = min(batch_size, n - first)
        lengths = [1 + min(int(expo(1 / 6)), 40) for _ in range(count)]
        words = rng.choices(vocab, cum_weights=word_cum, k=sum(lengths))
        chat_ix = rng.choices(range(n_chats), cum_weights=chat_cum, k=count)
        messages: list[MessageRecord] = []
        chats: list[ChatRecord] = []
        contacts: list[ContactRecord] = []
        pos = 0
        for j in range(count):
            i = first + j
            c = chat_ix[j]
            person = people.get(c)
            if person is None:
                person = people[c] = synthetic_person(c, rng)
                contacts.append(person.contact())
                chats.append(ChatRecord(jid=person.jid, name=person.saved_name))
            length = lengths[j]
            text = " ".join(words[pos : pos + length])
            pos += length
            mine = rand() < 0.4
            mid = f"3EB0{(i * _ID_MIX + id_key) & _MASK64:016X}"
            sender = account_jid if mine else person.jid
            quoted = last.get(c) if rand() < 0.05 else None
            messages.append(
                MessageRecord(
                    id=mid,
                    chat_jid=person.jid,
                    sender=sender,
                    sender_name=None if mine else person.push_name,
                    content=text[:1].upper() + text[1:],
                    is_from_me=mine,
                    reply_to_id=quoted[0] if quoted else None,
                    reply_to_sender=quoted[1] if quoted else None,
                    timestamp=datetime.fromtimestamp(int(start + i * step + rand() * step), tz),
                )
            )
            last[c] = (mid, sender)
        yield HistoryBatch(chats=chats, contacts=contacts, messages=messages)
