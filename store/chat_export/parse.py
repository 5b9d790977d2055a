"""Parse the phone's "Export chat" text: Android (`date, time - Name: text`) and iOS
(`[date, time] Name: text`), in the locale variants people actually send.

The text carries no message ids, no JIDs and no time zone, only local wall-clock times in the
phone's date format, which the file does not name. So the date order is inferred (a day above 12
decides; failing that, the order under which the dates never go backwards) and the caller names
the time zone. Pure: no store, no I/O beyond the text given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

DateOrder = Literal["dmy", "mdy", "ymd"]

# Invisible marks the exports put before names, "omitted" notes and whole lines (iOS), or inside
# times (U+202F before AM/PM on recent Android).
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"

# Seven groups each: day/month/year in the file's order, hour, minute, second, a/p. `\s` also
# matches the U+202F and U+00A0 that recent exports put inside times.
_DATE = r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})\.?"
_TIME = r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s?([AaPp])\.?\s?[Mm]\.?)?"
# A message starts on a line with iOS's `[date, time] ` or Android's `date, time - `.
_HEADER = re.compile(
    rf"^[{_BIDI}]*(?:\[{_DATE},?\s{_TIME}\]\s|{_DATE},?\s{_TIME}\s[-–]\s)", re.MULTILINE
)
_SENDER = re.compile(r"^(?P<name>[^:\n]{1,100}?):\s(?P<text>.*)$", re.DOTALL)
_SENDER_EMPTY = re.compile(r"^(?P<name>[^:\n]{1,100}?):$")

# What the exports write instead of the file when media were not included.
_OMITTED: dict[str, str] = {
    "<media omitted>": "unknown",
    "<medien ausgeschlossen>": "unknown",
    "<mídia oculta>": "unknown",
    "<arquivo de mídia oculto>": "unknown",
    "<multimedia omitido>": "unknown",
    "<médias omis>": "unknown",
    "image omitted": "image",
    "video omitted": "video",
    "audio omitted": "audio",
    "sticker omitted": "sticker",
    "gif omitted": "video",
    "document omitted": "document",
    "bild weggelassen": "image",
    "video weggelassen": "video",
    "audio weggelassen": "audio",
    "sticker weggelassen": "sticker",
    "imagem ocultada": "image",
    "vídeo omitido": "video",
    "áudio ocultado": "audio",
    "figurinha omitida": "sticker",
}
_DELETED = {
    "this message was deleted",
    "you deleted this message",
    "diese nachricht wurde gelöscht.",
    "diese nachricht wurde gelöscht",
    "du hast diese nachricht gelöscht.",
    "du hast diese nachricht gelöscht",
    "mensagem apagada",
    "esta mensagem foi apagada",
    "você apagou esta mensagem",
    "você apagou esta mensagem.",
}
_STRIP = _BIDI + " "
_NOTE_MAX = max(len(x) for x in (*_OMITTED, *_DELETED))
_EDITED = ("<This message was edited>", "<Diese Nachricht wurde bearbeitet>", "<Mensagem editada>")
# Names the exports use for the account itself (system lines, some locales' own messages).
YOU_NAMES = frozenset({"you", "du", "você", "voce", "tú", "vous"})

_ATTACHED_ANDROID = re.compile(
    r"^(?P<file>[^\n<>]+?\.[A-Za-z0-9]{2,5}) \((?:file attached|datei angehängt|arquivo anexado|"
    r"archivo adjunto|fichier joint)\)(?:\n(?P<caption>.*))?$",
    re.DOTALL | re.IGNORECASE,
)
_ATTACHED_IOS = re.compile(
    r"^<(?:attached|anhang|anexado|adjunto|pièce jointe): (?P<file>[^>\n]+)>"
    r"(?:\n(?P<caption>.*))?$",
    re.DOTALL | re.IGNORECASE,
)

_EXT_KIND = {
    "jpg": "image", "jpeg": "image", "png": "image", "heic": "image", "gif": "image",
    "mp4": "video", "mov": "video", "3gp": "video",
    "opus": "voice", "ogg": "voice",
    "m4a": "audio", "mp3": "audio", "aac": "audio", "wav": "audio", "amr": "audio",
    "webp": "sticker", "vcf": "contact",
}  # fmt: skip


class DateOrderUnknown(ValueError):
    """The dates read the same day-first and month-first: the caller must say which."""


@dataclass(slots=True)
class ParsedMessage:
    """One message of the export. `line` is its first line's number (1-based)."""

    line: int
    local_time: datetime
    timestamp_ms: int
    sender_name: str | None
    text: str | None
    kind: str = "text"
    filename: str | None = None
    caption: str | None = None
    is_system: bool = False
    deleted: bool = False
    edited: bool = False
    has_seconds: bool = False


@dataclass(slots=True)
class BadLine:
    line: int
    text: str
    reason: str


@dataclass(slots=True)
class ParsedExport:
    messages: list[ParsedMessage] = field(default_factory=lambda: list[ParsedMessage]())
    bad_lines: list[BadLine] = field(default_factory=lambda: list[BadLine]())
    date_order: DateOrder = "dmy"
    style: Literal["android", "ios"] = "android"


Dmy = tuple[int, int, int]


def infer_date_order(dates: list[Dmy]) -> DateOrder:
    """Day-first or month-first from the dates themselves; DateOrderUnknown when both read."""
    if any(d[0] > 31 for d in dates):  # a year first (2024-03-12)
        return "ymd"
    first_over = any(d[0] > 12 for d in dates)
    second_over = any(d[1] > 12 for d in dates)
    if first_over and not second_over:
        return "dmy"
    if second_over and not first_over:
        return "mdy"
    if not dates:
        return "dmy"
    # Both readings are valid dates: prefer the one under which time never runs backwards
    # (exports are in order, and a month-first misreading jumps between months).
    backwards = {
        order: sum(
            1 for a, b in zip(dates, dates[1:], strict=False) if _ymd(b, order) < _ymd(a, order)
        )
        for order in ("dmy", "mdy")
    }
    if backwards["dmy"] != backwards["mdy"]:
        return "dmy" if backwards["dmy"] < backwards["mdy"] else "mdy"
    if all(d[0] == d[1] for d in dates):
        return "dmy"  # every date reads the same either way
    raise DateOrderUnknown(
        "The export's dates read both day-first and month-first (no day above 12). Give "
        'date_order="dmy" (e.g. 03/04/2024 = 3 April) or "mdy" (= March 4).'
    )


def _ymd(date: Dmy, order: DateOrder) -> Dmy:
    a, b, c = date
    if order == "ymd":
        y, mo, d = a, b, c
    elif order == "dmy":
        d, mo, y = a, b, c
    else:
        mo, d, y = a, b, c
    if y < 100:
        y += 2000
    return y, mo, d


def _local_time(
    date: Dmy, order: DateOrder, hour: int, minute: int, sec: str | None, ampm: str | None
) -> datetime:
    y, mo, d = _ymd(date, order)
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with AM/PM")
        hour = hour % 12 + (12 if ampm in "pP" else 0)
    return datetime(y, mo, d, hour, minute, int(sec) if sec else 0)


def _utc_ms(local: datetime, tz: tzinfo) -> int:
    aware = local.replace(tzinfo=tz)
    # A wall time skipped by a DST jump does not round-trip: take the moment after the jump.
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != local:
        aware = (local + timedelta(hours=1)).replace(tzinfo=tz)
    return int(aware.astimezone(UTC).timestamp() * 1000)


def _to_utc_ms(
    local: datetime,
    tz: tzinfo,
    day_ms: dict[tuple[int, int, int], int | None],
    hour_ms: dict[tuple[int, int, int, int], int],
) -> int:
    """`local` in UTC epoch ms, with zone lookups cached: per day when the day has no offset
    change (nearly all), else per hour (offsets change on hour boundaries)."""
    dkey = (local.year, local.month, local.day)
    if dkey in day_ms:
        base = day_ms[dkey]
    else:
        midnight = local.replace(hour=0, minute=0, second=0)
        a, b = _utc_ms(midnight, tz), _utc_ms(midnight.replace(hour=23), tz)
        base = day_ms[dkey] = a if b - a == 23 * 3_600_000 else None
    if base is not None:
        return base + local.hour * 3_600_000 + local.minute * 60_000 + local.second * 1000
    hkey = (*dkey, local.hour)
    hour = hour_ms.get(hkey)
    if hour is None:
        hour = hour_ms[hkey] = _utc_ms(local.replace(minute=0, second=0), tz)
    return hour + local.minute * 60_000 + local.second * 1000


def _body(msg: ParsedMessage, text: str, *, ios: bool) -> None:
    """Fill kind, text, file and flags from a message's text as the export wrote it."""
    stripped = text.strip(_STRIP)
    if stripped[-1:] == ">":
        for mark in _EDITED:
            if stripped.endswith(mark):
                stripped = stripped[: -len(mark)].rstrip(_STRIP)
                msg.edited = True
    # The fixed notes are short; most messages are not looked up at all.
    if len(stripped) <= _NOTE_MAX:
        low = stripped.lower()
        if low in _OMITTED:
            msg.kind, msg.text = _OMITTED[low], None
            return
        if low in _DELETED:
            msg.deleted, msg.text = True, None
            return
    m = None
    if stripped[:1] == "<":
        m = _ATTACHED_IOS.match(stripped)
    elif ") " in stripped or stripped.endswith(")") or ")\n" in stripped:
        m = _ATTACHED_ANDROID.match(stripped)
    if m is not None:
        name = m.group("file").strip(_BIDI + " ")
        msg.filename = name
        msg.kind = kind_of_file(name)
        caption = (m.group("caption") or "").strip(_BIDI)
        msg.caption = caption or None
        msg.text = None
        return
    if ios and text.startswith("\u200e"):
        # iOS writes system notes ("‎Messages and calls are end-to-end encrypted", "‎Bob left")
        # under the chat's name, marked only by a leading U+200E.
        msg.is_system, msg.kind, msg.sender_name = True, "system", None
    msg.text = stripped


def kind_of_file(name: str) -> str:
    upper = name.upper()
    if "-STICKER-" in upper or upper.startswith("STK-"):
        return "sticker"
    if upper.startswith("PTT-") or ("-AUDIO-" in upper and upper.endswith(".OPUS")):
        return "voice"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext == "webp" and not upper.startswith(("STK", "IMG")) and "-STICKER-" not in upper:
        return "image"
    return _EXT_KIND.get(ext, "document")


def parse_export(
    text: str, *, tz: tzinfo = UTC, date_order: DateOrder | None = None
) -> ParsedExport:
    """Every message of an export; lines that look like a message start but cannot be read are
    reported in `bad_lines` (with their numbers) and skipped, and the rest is still parsed."""
    out = ParsedExport()
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    heads = list(_HEADER.finditer(text))
    first = heads[0].start() if heads else len(text)
    for number, raw in enumerate(text[:first].split("\n"), start=1):
        if raw.strip(_BIDI + " \t"):
            out.bad_lines.append(BadLine(number, raw[:200], "not a message line"))
    # Pass 1: the dates, to infer their order (a day above 12 anywhere decides).
    groups: list[tuple[str | None, ...]] = []
    dates: list[Dmy] = []
    ios_count = 0
    for m in heads:
        g = m.groups()
        if g[0] is None:
            g = g[7:]
        else:
            ios_count += 1
            g = g[:7]
        groups.append(g)
        dates.append((int(g[0] or 0), int(g[1] or 0), int(g[2] or 0)))
    out.style = "ios" if ios_count * 2 > len(heads) else "android"
    order = date_order or infer_date_order(dates)
    out.date_order = order
    day_ms: dict[tuple[int, int, int], int | None] = {}
    hour_ms: dict[tuple[int, int, int, int], int] = {}
    line = 1 + text.count("\n", 0, first)
    pos = first
    strip = _BIDI + " "
    for i, m in enumerate(heads):
        start = m.start()
        line += text.count("\n", pos, start)
        pos = start
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        g = groups[i]
        try:
            local = _local_time(dates[i], order, int(g[3] or 0), int(g[4] or 0), g[5], g[6])
        except ValueError as exc:
            head_line = text[start:end].split("\n", 1)[0]
            out.bad_lines.append(BadLine(line, head_line[:200], f"bad date/time: {exc}"))
            continue
        # Trailing blank lines belong to the file, not to the message.
        body = text[m.end() : end].rstrip()
        msg = ParsedMessage(
            line=line,
            local_time=local,
            timestamp_ms=_to_utc_ms(local, tz, day_ms, hour_ms),
            sender_name=None,
            text=None,
            has_seconds=g[5] is not None,
        )
        out.messages.append(msg)
        s = _SENDER.match(body)
        if s is None:
            e = _SENDER_EMPTY.match(body)
            if e is not None:
                msg.sender_name, msg.text = e.group("name").strip(strip), ""
                continue
        if s is None or '"' in s.group("name") or "“" in s.group("name"):
            # No "Name: " prefix: a system line ("Alice added Bob", the encryption notice).
            msg.is_system, msg.kind, msg.text = True, "system", body.strip(strip)
        else:
            msg.sender_name = s.group("name").strip(strip)
            _body(msg, s.group("text"), ios=m.group(1) is not None)
    return out
