"""What a person sees: one check for every piece of text a send puts on someone's screen.

Message text, captions, the quote of a reply and reaction emoji all pass `check_visible`. The
check works on the text as rendered, not on the raw string:

- Default-ignorable code points (the Unicode property `Default_Ignorable_Code_Point`, plus every
  other format character `Cf`) render as nothing. They are refused except in the few contexts
  real text needs them: ZWJ inside emoji ZWJ sequences and between letters of scripts that join
  (Arabic, Indic, …), ZWNJ between letters of those scripts, one VS15/VS16 after a character
  that has an emoji form, and tag characters only inside the three RGI subdivision flags.
- Private-use, unassigned and surrogate code points are refused: nobody can see what they are.
- Whitespace runs and line breaks are measured after the invisible characters are removed, so a
  zero-width character between spaces or newlines does not split a run.
- Combining marks are capped per character (stacked marks cover neighbouring lines).

The Unicode data comes from the `regex` package, which tracks the current Unicode version (the
standard library's `unicodedata` is frozen per Python release: 3.11 does not know emoji added
since 2021, which would be refused as unassigned).
"""

from __future__ import annotations

import regex

from bridge.send.refusal import Refusal

# WhatsApp rejects text messages longer than this (characters).
MAX_TEXT_LENGTH = 65536
# A run of whitespace longer than this, or with more line breaks, can push text out of sight
# of a user approving the call (the "hundreds of spaces" exfiltration trick).
MAX_WHITESPACE_RUN = 12
MAX_LINE_BREAKS_IN_RUN = 4
# Many short runs do the same job as one long one: cap whitespace beyond single spaces…
MAX_EXTRA_WHITESPACE = 200
# …and line breaks in all (hundreds of one-character lines scroll the payload away).
MAX_LINE_BREAKS = 100
# Combining marks on one character: Hebrew with points and cantillation needs about 5.
MAX_COMBINING_MARKS = 6

# Renders as nothing: the Unicode property, plus format characters outside it (interlinear
# annotation U+FFF9–FFFB, prepended concatenation marks, Egyptian format controls).
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")
_UNSEEN = regex.compile(r"[\p{Co}\p{Cn}\p{Cs}]")
_CONTROL = regex.compile(r"[\p{Cc}--[\t\n\r]]", flags=regex.V1)
_MARK = regex.compile(r"[\p{Mn}\p{Me}]")
# Characters that look like a blank but are not Unicode white space.
_BLANK = regex.compile(r"[\p{White_Space}\u2800]")
_BLANK_RUN = regex.compile(r"[\p{White_Space}\u2800]+")
# Every Unicode line break (CR LF counts once): LF, VT, FF, CR, NEL, LS, PS.
_LINE_BREAK = regex.compile(r"\r\n|[\n\v\f\r\x85\u2028\u2029]")
_EMOJI = regex.compile(r"\p{Emoji}")
_PICTOGRAPH = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}]")
# Scripts whose letters take ZWJ/ZWNJ to choose a joining or conjunct form.
_JOINING_SCRIPTS = (
    "Arabic Syriac Nko Thaana Mongolian Devanagari Bengali Gurmukhi Gujarati Oriya Tamil Telugu "
    "Kannada Malayalam Sinhala Tibetan Myanmar Khmer Adlam Hanifi_Rohingya"
).split()
_JOINING_LETTER = regex.compile(
    r"[[\p{L}\p{M}]&&[" + "".join(rf"\p{{scx={s}}}" for s in _JOINING_SCRIPTS) + "]]",
    flags=regex.V1,
)
# A virama asks for a half form; a joiner after it is meaningful at a word's end too
# (Malayalam chillu letters written the older way: ന് + ZWJ).
_VIRAMA = regex.compile(r"\p{ccc=Virama}")
_MONGOLIAN = regex.compile(r"\p{scx=Mongolian}")
# The only RGI tag sequences: the flags of England, Scotland and Wales.
_SUBDIVISION_FLAG = regex.compile(
    "\U0001f3f4(?:\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067"
    "|\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074"
    "|\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073)\U000e007f"
)
_GRAPHEME = regex.compile(r"\X")
_FLAG_PAIR = regex.compile(r"\p{Regional_Indicator}{2}")

ZWJ, ZWNJ, VS15, VS16 = "\u200d", "\u200c", "\ufe0e", "\ufe0f"
_MONGOLIAN_FVS = "\u180b\u180c\u180d\u180f"


def is_invisible(ch: str) -> bool:
    """`ch` renders as nothing (default-ignorable or a format character)."""
    return _INVISIBLE.match(ch) is not None


def visible_text(text: str) -> str:
    """`text` as it renders: every default-ignorable and format character removed."""
    return _INVISIBLE.sub("", text)


def _allowed_invisible(text: str, i: int, flag_tags: set[int]) -> bool:
    """Whether the invisible character at `i` is in a context real text needs."""
    ch = text[i]
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if i in flag_tags:
        return True
    if ch == ZWJ:
        emoji_before = prev != "" and (
            _PICTOGRAPH.match(prev) is not None
            or (prev == VS16 and i > 1 and _PICTOGRAPH.match(text[i - 2]) is not None)
        )
        if emoji_before and nxt != "" and _PICTOGRAPH.match(nxt) is not None:
            return True
    if ch in (ZWJ, ZWNJ):
        if prev == "" or _JOINING_LETTER.match(prev) is None:
            return False
        return _VIRAMA.match(prev) is not None or (
            nxt != "" and _JOINING_LETTER.match(nxt) is not None
        )
    if ch in (VS15, VS16):
        # One presentation selector right after a character that has an emoji form.
        return prev != "" and _EMOJI.match(prev) is not None and not is_invisible(prev)
    if ch in _MONGOLIAN_FVS:
        return prev != "" and _MONGOLIAN.match(prev) is not None and not is_invisible(prev)
    return False


def _hidden_refusal(what: str, ch: str) -> Refusal:
    return Refusal(
        code="hidden_characters",
        message=f"The {what} contains U+{ord(ch):04X}, a character that shows as nothing (or "
        "as an unknown box) outside the few places real text needs it; invisible, bidi, tag, "
        "variation-selector, private-use and unassigned characters can hide content from the "
        "person approving the send. Remove them and send plain text. No setting allows this.",
    )


def check_visible(text: str, *, what: str = "text", fix: str | None = None) -> Refusal | None:
    """Refuse `text` when what a person sees would hide part of it, or WhatsApp would reject it.

    `what` names the piece in the refusal ("text", "caption", "quoted message"); `fix` adds
    the next step the caller can take when the piece is not theirs to edit.
    """
    refusal = _check(text, what)
    if refusal is None or fix is None:
        return refusal
    return Refusal(code=refusal.code, message=f"{refusal.message} {fix}")


def _check(text: str, what: str) -> Refusal | None:
    if len(text) > MAX_TEXT_LENGTH:
        return Refusal(
            code="text_too_long",
            message=f"The {what} has {len(text)} characters; WhatsApp allows at most "
            f"{MAX_TEXT_LENGTH}. Shorten it or split it into several messages.",
        )
    flag_tags: set[int] = set()
    for m in _SUBDIVISION_FLAG.finditer(text):
        flag_tags.update(range(m.start() + 1, m.end()))
    marks = 0
    for i, ch in enumerate(text):
        if _CONTROL.match(ch) or _UNSEEN.match(ch):
            return _hidden_refusal(what, ch)
        if is_invisible(ch):
            if not _allowed_invisible(text, i, flag_tags):
                return _hidden_refusal(what, ch)
            continue  # an allowed joiner or selector neither starts nor ends a mark stack
        marks = marks + 1 if _MARK.match(ch) else 0
        if marks > MAX_COMBINING_MARKS:
            return Refusal(
                code="stacked_marks",
                message=f"The {what} stacks more than {MAX_COMBINING_MARKS} combining marks on "
                "one character; stacked marks spill over neighbouring lines and can hide text "
                "from the person approving the send. Remove them. No setting allows this.",
            )
    return _check_spacing(visible_text(text), what)


def _check_spacing(shown: str, what: str) -> Refusal | None:
    if not _BLANK.sub("", shown):
        return Refusal(code="empty_text", message=f"The {what} is empty or only whitespace.")
    longest, breaks, surplus = 0, 0, 0
    for run in _BLANK_RUN.finditer(shown):
        blank = run.group()
        # Line breaks and the blanks on one line are measured apart: indentation after a
        # line break is ordinary (code), a wide blank on one line or many empty lines is not.
        longest = max(longest, *(len(part) for part in _LINE_BREAK.split(blank)))
        breaks = max(breaks, len(_LINE_BREAK.findall(blank)))
        surplus += len(blank) - 1
    if longest > MAX_WHITESPACE_RUN or breaks > MAX_LINE_BREAKS_IN_RUN:
        return Refusal(
            code="whitespace_padding",
            message=f"The {what} contains {longest} blank characters on one line or "
            f"{breaks} line breaks in a row; more than {MAX_WHITESPACE_RUN} blanks or "
            f"{MAX_LINE_BREAKS_IN_RUN} line breaks in a row can push content out of sight of "
            "the person approving the send. Remove the padding. No setting allows this.",
        )
    if surplus > MAX_EXTRA_WHITESPACE:
        return Refusal(
            code="whitespace_padding",
            message=f"The {what} carries {surplus} whitespace characters beyond single spaces "
            f"(at most {MAX_EXTRA_WHITESPACE}); padding like this can hide content from the "
            "person approving the send. Remove it. No setting allows this.",
        )
    lines = len(_LINE_BREAK.findall(shown))
    if lines > MAX_LINE_BREAKS:
        return Refusal(
            code="whitespace_padding",
            message=f"The {what} has {lines} line breaks (at most {MAX_LINE_BREAKS}); that "
            "many lines can scroll content out of sight of the person approving the send. "
            "Join lines or split it into several messages. No setting allows this.",
        )
    return None


def check_reaction(emoji: str) -> Refusal | None:
    """A reaction is exactly one emoji grapheme ("" removes a reaction and is checked apart)."""
    graphemes = _GRAPHEME.findall(emoji)
    bad = Refusal(
        code="not_an_emoji",
        message=f"{emoji!r} is not an emoji: a reaction is exactly one emoji (like 👍 or "
        '❤️), or "" to remove my reaction.',
    )
    if len(graphemes) != 1:
        return bad
    g = graphemes[0]
    first = g[0]
    is_emoji = (
        _FLAG_PAIR.fullmatch(g) is not None
        or regex.match(r"\p{Emoji_Presentation}", first) is not None
        or (_EMOJI.match(first) is not None and VS16 in g)
        or (_PICTOGRAPH.match(first) is not None and not first.isascii())
    )
    if not is_emoji:
        return bad
    return check_visible(g, what="reaction")
