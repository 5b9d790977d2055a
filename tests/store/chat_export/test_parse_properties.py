"""Whatever the phone's format, rendering messages as an export and parsing it gives them back."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from store.chat_export.parse import YOU_NAMES, parse_export

NAME = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜäöüéñ ABC", min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda n: bool(n) and n.lower() not in YOU_NAMES)
)
LINE = st.from_regex(r"[A-Za-zçãé][A-Za-z0-9 ,.!?:çãé🍕]{0,40}", fullmatch=True).map(str.rstrip)
TEXT = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
MESSAGE = st.tuples(NAME, TEXT, st.integers(min_value=0, max_value=10_000_000))
FORMAT = st.fixed_dictionaries(
    {
        "ios": st.booleans(),
        "h12": st.booleans(),
        "order": st.sampled_from(["dmy", "mdy", "ymd"]),
        "short_year": st.booleans(),
        "sep": st.sampled_from(["/", ".", "-"]),
        "nnbsp": st.booleans(),
    }
)


def render(when: datetime, fmt: dict[str, object]) -> str:
    y = when.year % 100 if fmt["short_year"] and fmt["order"] != "ymd" else when.year
    parts = {"dmy": (when.day, when.month, y), "mdy": (when.month, when.day, y)}.get(
        str(fmt["order"]), (y, when.month, when.day)
    )
    date = str(fmt["sep"]).join(f"{p:02d}" for p in parts)
    if fmt["h12"]:
        hour = when.hour % 12 or 12
        time = f"{hour}:{when.minute:02d}"
        if fmt["ios"]:
            time += f":{when.second:02d}"
        time += ("\u202f" if fmt["nnbsp"] else " ") + ("PM" if when.hour >= 12 else "AM")
    else:
        time = f"{when:%H:%M}" + (f":{when.second:02d}" if fmt["ios"] else "")
    return f"[{date}, {time}] " if fmt["ios"] else f"{date}, {time} - "


@settings(max_examples=150, deadline=None)
@given(st.lists(MESSAGE, min_size=1, max_size=30), FORMAT)
def test_rendered_exports_parse_back_to_the_same_messages(
    messages: list[tuple[str, str, int]], fmt: dict[str, object]
) -> None:
    start = datetime(2003, 1, 1)
    offsets = sorted(o for _, _, o in messages)
    whens = [start + timedelta(seconds=o * 37) for o in offsets]
    text = "".join(
        f"{render(w, fmt)}{name}: {body}\n"
        for w, (name, body, _) in zip(whens, messages, strict=True)
    )
    parsed = parse_export(text, date_order=fmt["order"])  # type: ignore[arg-type]
    assert parsed.bad_lines == []
    expected_times = [w if fmt["ios"] else w.replace(second=0) for w in whens]
    assert [(m.sender_name, m.text, m.local_time) for m in parsed.messages] == [
        (name, body, t) for (name, body, _), t in zip(messages, expected_times, strict=True)
    ]
    assert parsed.style == ("ios" if fmt["ios"] else "android")
    # With a day above 12 somewhere, the order needs no help.
    if any(w.day > 12 for w in whens) and fmt["order"] != "ymd":
        assert parse_export(text).date_order == fmt["order"]
