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
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Literal

DateOrder = Literal["dmy", "mdy", "ymd"]

# Invisible marks the exports put before names, "omitted" notes and whole lines (iOS), or inside
# times (U+202F before AM/PM on recent Android).
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACES = {"\u202f": " ", "\u00a0": " ", "\u2009": " "}

_DATE = r"(?P<d1>\d{1,4})[./-](?P<d2>\d{1,2})[./-](?P<d3>\d{1,4})\.?"
_TIME = (
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:\s?(?P<ampm>[AaPp])\.?\s?[Mm]\.?)?"
)
_IOS = re.compile(rf"^\[{_DATE},?\s{_TIME}\]\s(?P<rest>.*)$", re.DOTALL)
_ANDROID = re.compile(rf"^{_DATE},?\s{_TIME}\s[-–]\s(?P<rest>.*)$", re.DOTALL)
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


@dataclass(slots=True)
class _Head:
    line: int
    d: tuple[int, int, int]
    h: int
    mi: int
    s: int | None
    ampm: str | None
    rest: str
    ios: bool


def _clean_line(raw: str) -> str:
    for bad, good in _SPACES.items():
        if bad in raw:
            raw = raw.replace(bad, good)
    return raw.lstrip(_BIDI).rstrip("\r")


def _head(line_no: int, line: str) -> _Head | None:
    if not line or not (line[0].isdigit() or line[0] == "["):
        return None  # a continuation line: skip both regexes
    m = _IOS.match(line) if line[0] == "[" else _ANDROID.match(line)
    if m is None:
        return None
    d1, d2, d3, h, mi, sec, ampm, rest = m.groups()
    return _Head(
        line=line_no,
        d=(int(d1), int(d2), int(d3)),
        h=int(h),
        mi=int(mi),
        s=int(sec) if sec is not None else None,
        ampm=ampm.lower() if ampm else None,
        rest=rest,
        ios=line[0] == "[",
    )


def infer_date_order(heads: list[_Head]) -> DateOrder:
    """Day-first or month-first from the dates themselves; DateOrderUnknown when both read."""
    if any(h.d[0] > 31 for h in heads):  # a year first (2024-03-12)
        return "ymd"
    first_over = any(h.d[0] > 12 for h in heads)
    second_over = any(h.d[1] > 12 for h in heads)
    if first_over and not second_over:
        return "dmy"
    if second_over and not first_over:
        return "mdy"
    if not heads:
        return "dmy"
    # Both readings are valid dates: prefer the one under which time never runs backwards
    # (exports are in order, and a month-first misreading jumps between months).
    backwards = {
        order: sum(
            1 for a, b in zip(heads, heads[1:], strict=False) if _ymd(b, order) < _ymd(a, order)
        )
        for order in ("dmy", "mdy")
    }
    if backwards["dmy"] != backwards["mdy"]:
        return "dmy" if backwards["dmy"] < backwards["mdy"] else "mdy"
    if all(h.d[0] == h.d[1] for h in heads):
        return "dmy"  # every date reads the same either way
    raise DateOrderUnknown(
        "The export's dates read both day-first and month-first (no day above 12). Give "
        'date_order="dmy" (e.g. 03/04/2024 = 3 April) or "mdy" (= March 4).'
    )


def _ymd(h: _Head, order: DateOrder) -> tuple[int, int, int]:
    a, b, c = h.d
    if order == "ymd":
        y, mo, d = a, b, c
    elif order == "dmy":
        d, mo, y = a, b, c
    else:
        mo, d, y = a, b, c
    if y < 100:
        y += 2000
    return y, mo, d


def _local_time(h: _Head, order: DateOrder) -> datetime:
    y, mo, d = _ymd(h, order)
    hour = h.h
    if h.ampm is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with AM/PM")
        hour = hour % 12 + (12 if h.ampm == "p" else 0)
    return datetime(y, mo, d, hour, h.mi, h.s or 0)


def _utc_ms(local: datetime, tz: tzinfo) -> int:
    aware = local.replace(tzinfo=tz)
    # A wall time skipped by a DST jump does not round-trip: take the moment after the jump.
    back = aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
    if back != local:
        aware = (local + timedelta(hours=1)).replace(tzinfo=tz)
    return int(aware.astimezone(timezone.utc).timestamp() * 1000)


def _body(msg: ParsedMessage, text: str, *, ios: bool) -> None:
    """Fill kind, text, file and flags from a message's text as the export wrote it."""
    stripped = text.strip(_BIDI + " ")
    for mark in _EDITED:
        if stripped.endswith(mark):
            stripped = stripped[: -len(mark)].rstrip(_BIDI + " ")
            msg.edited = True
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
    text: str, *, tz: tzinfo = timezone.utc, date_order: DateOrder | None = None
) -> ParsedExport:
    """Every message of an export; lines that look like a message start but cannot be read are
    reported in `bad_lines` (with their numbers) and skipped, and the rest is still parsed."""
    out = ParsedExport()
    lines = text.split("\n")
    heads: list[_Head] = []
    # Each entry: a head and the continuation lines after it (multi-line messages).
    blocks: list[tuple[_Head, list[str]]] = []
    for number, raw in enumerate(lines, start=1):
        line = _clean_line(raw)
        h = _head(number, line)
        if h is not None:
            heads.append(h)
            blocks.append((h, []))
        elif blocks:
            blocks[-1][1].append(raw.rstrip("\r"))
        elif line.strip():
            out.bad_lines.append(BadLine(number, raw[:200], "not a message line"))
    if heads:
        out.style = "ios" if sum(h.ios for h in heads) * 2 > len(heads) else "android"
    order = date_order or infer_date_order(heads)
    out.date_order = order
    # UTC of each local hour, computed once: zone offsets change on hour boundaries.
    hour_ms: dict[tuple[int, int, int, int], int] = {}
    for h, more in blocks:
        try:
            local = _local_time(h, order)
        except ValueError as exc:
            out.bad_lines.append(BadLine(h.line, lines[h.line - 1][:200], f"bad date/time: {exc}"))
            continue
        # A trailing blank line belongs to the file, not to the last message.
        while more and not more[-1].strip():
            more.pop()
        body = "\n".join([h.rest, *more])
        key = (local.year, local.month, local.day, local.hour)
        base = hour_ms.get(key)
        if base is None:
            base = hour_ms[key] = _utc_ms(local.replace(minute=0, second=0), tz)
        msg = ParsedMessage(
            line=h.line,
            local_time=local,
            timestamp_ms=base + local.minute * 60_000 + local.second * 1000,
            sender_name=None,
            text=None,
            has_seconds=h.s is not None,
        )
        m = _SENDER.match(body)
        if m is None and not more:
            e = _SENDER_EMPTY.match(body)
            if e is not None:
                msg.sender_name = e.group("name").strip(_BIDI + " ")
                msg.text = ""
                out.messages.append(msg)
                continue
        if m is None or '"' in m.group("name") or "“" in m.group("name"):
            # No "Name: " prefix: a system line ("Alice added Bob", the encryption notice).
            msg.is_system, msg.kind, msg.text = True, "system", body.strip(_BIDI + " ")
        else:
            msg.sender_name = m.group("name").strip(_BIDI + " ")
            _body(msg, m.group("text"), ios=h.ios)
        out.messages.append(msg)
    return out
