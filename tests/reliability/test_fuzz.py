"""Fuzzing: nothing the outside world can hand us raises an unhandled exception.

- ingest: malformed and odd event models and dicts through `bridge.ingest.events.apply_event` on a
  real StoreWriter (the neonize protobuf conversion is fuzzed in
  tests/bridge/transport/neonize/test_neonize_convert.py);
- tool arguments: every registered tool, called through a real MCP client with generated
  arguments, answers a result or a deliberate ToolError, never the SDK's crash wrapper;
- the FTS query builder: quotes, operators, emoji, empty and 10 kB queries either build a MATCH
  expression SQLite accepts or raise InvalidArgument;
- the control API (Starlette on uvicorn, as the bridge serves it): generated raw requests over a
  real Unix socket get a well-formed HTTP answer (never the 500 of an unhandled error) and log no
  error.

Example counts are printed (-s) and guarded by the last test of the file.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from pydantic import BaseModel, TypeAdapter, ValidationError

from bridge.ingest.events import apply_event
from bridge.server.app import ControlServer, Route
from bridge.settings import load_settings
from bridge.transport.protocol import TransportEvent
from store.errors import InvalidArgument, StoreError
from store.fts import build_match
from store.schema import migrate
from store.writer import StoreWriter
from tests.helpers import eventually_async, sim_env
from tests.inprocess import in_process
from tests.reliability.sizes import scaled

RAN: dict[str, int] = {"ingest": 0, "tools": 0, "fts": 0, "http_socket": 0}
SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
UTC = UTC

# ---------------------------------------------------------------- shared value strategies

_JIDS = [
    "15551234567@s.whatsapp.net",
    "15551234567:12@s.whatsapp.net",
    "15551234567.0:3@s.whatsapp.net",
    "98765432109876@lid",
    "120363000000000001@g.us",
    "status@broadcast",
    "12345@newsletter",
    "@s.whatsapp.net",
    "abc@s.whatsapp.net",
    "15551234567@unknown.server",
    "15551234567",
    "+1 (555) 123-4567",
    "",
    " ",
    "x" * 300,
]
_ODD_TEXT = [
    "",
    " ",
    '"',
    '""""',
    "'",
    "*",
    "**",
    "-",
    "^",
    ":",
    "(",
    ")",
    "AND",
    "OR NOT",
    "NEAR(a b, 3)",
    "a AND OR b",
    'hello "world',
    "foo-bar",
    "don't",
    "col:value",
    "{a b}",
    "piz*",
    "*piz",
    "👍",
    "❤️🎉",
    "café naïve",
    "\u200b\u202e\u2066",
    "\x00",
    "\ufeff",
    "日本語のテキスト",
    "١٢٣",
]
odd_text = st.one_of(st.sampled_from(_ODD_TEXT), st.text(max_size=200))
jid_text = st.one_of(st.sampled_from(_JIDS), st.text(max_size=40))
timestamps = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


# ---------------------------------------------------------------- ingest


def _event_dicts() -> st.SearchStrategy[dict[str, Any]]:
    message = st.fixed_dictionaries(
        {"id": st.text(max_size=30), "chat_jid": jid_text, "timestamp": timestamps},
        optional={
            "sender": st.none() | jid_text,
            "sender_name": st.none() | odd_text,
            "content": st.none() | odd_text,
            "is_from_me": st.booleans(),
            "kind": st.sampled_from(["text", "image", "voice", "poll", "nonsense"]),
            "caption": st.none() | odd_text,
            "media": st.none()
            | st.fixed_dictionaries({}, optional={"file_size": st.integers(-1, 2**70)}),
            "reply_to_id": st.none() | st.text(max_size=20),
            "reply_to_sender": st.none() | jid_text,
            "mentions": st.lists(jid_text, max_size=4),
            "is_placeholder": st.booleans(),
        },
    )
    contact = st.fixed_dictionaries(
        {"jid": jid_text},
        optional={"lid": st.none() | jid_text, "push_name": st.none() | odd_text},
    )
    ref = {"chat_jid": jid_text, "message_id": st.text(max_size=20), "timestamp": timestamps}
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("message"), "message": message},
            optional={"contact": st.none() | contact},
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("history"),
                "batch": st.fixed_dictionaries(
                    {},
                    optional={
                        "messages": st.lists(message, max_size=5),
                        "contacts": st.lists(contact, max_size=3),
                        "chats": st.lists(
                            st.fixed_dictionaries(
                                {"jid": jid_text},
                                optional={
                                    "name": st.none() | odd_text,
                                    "unread_count": st.none() | st.integers(-5, 2**40),
                                    "last_message_at": st.none() | timestamps,
                                },
                            ),
                            max_size=3,
                        ),
                    },
                ),
            },
            optional={"progress": st.none() | st.integers(-10, 1000)},
        ),
        st.fixed_dictionaries({"type": st.just("contacts"), "contacts": st.lists(contact)}),
        st.fixed_dictionaries(
            {
                "type": st.just("group"),
                "group": st.fixed_dictionaries(
                    {"jid": jid_text},
                    optional={
                        "name": st.none() | odd_text,
                        "participants": st.none()
                        | st.lists(st.fixed_dictionaries({"jid": jid_text}), max_size=4),
                    },
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("reaction"),
                "reaction": st.fixed_dictionaries(
                    {**ref, "sender": jid_text, "emoji": st.sampled_from(["", "👍", "x" * 50])}
                ),
            }
        ),
        st.fixed_dictionaries(
            {"type": st.just("edit"), "edit": st.fixed_dictionaries({**ref, "content": odd_text})}
        ),
        st.fixed_dictionaries({"type": st.just("delete"), "delete": st.fixed_dictionaries(ref)}),
        st.fixed_dictionaries(
            {
                "type": st.just("receipt"),
                "receipt": st.fixed_dictionaries(
                    {
                        "chat_jid": jid_text,
                        "message_ids": st.lists(st.text(max_size=10), max_size=3),
                        "timestamp": timestamps,
                    },
                    optional={"kind": st.sampled_from(["delivered", "read", "played", "bogus"])},
                ),
            }
        ),
        # Anything at all.
        st.dictionaries(st.text(max_size=10), st.none() | st.integers() | st.text(max_size=10)),
    )


_EVENT = TypeAdapter(TransportEvent)


@pytest.fixture(scope="module")
def fuzz_writer() -> Iterator[StoreWriter]:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn)
    yield StoreWriter(conn)
    conn.close()


@settings(max_examples=scaled(600), deadline=None, suppress_health_check=SUPPRESS)
@given(data=_event_dicts())
def test_fuzz_ingest_of_malformed_events_raises_only_typed_errors(
    fuzz_writer: StoreWriter, data: dict[str, Any]
) -> None:
    RAN["ingest"] += 1
    try:
        event = _EVENT.validate_python(data)
    except ValidationError:
        return  # rejected at the model boundary: the transport never emits it
    try:
        apply_event(fuzz_writer, event)
    except StoreError:
        pass  # typed and explained (an unparseable JID, …)
    # The store stays consistent whatever was thrown at it.
    conn = fuzz_writer._conn  # pyright: ignore[reportPrivateUsage]
    assert not conn.in_transaction


# ---------------------------------------------------------------- FTS query builder

_OPERATORS = ["AND", "OR", "NOT", "NEAR", '"', "*", "(", ")", "^", ":", "-", "+", "{", "}"]
fts_queries = st.one_of(
    odd_text,
    st.lists(st.sampled_from(_OPERATORS + _ODD_TEXT), max_size=30).map(" ".join),
    st.lists(st.sampled_from(_OPERATORS + _ODD_TEXT), max_size=30).map("".join),
    st.builds(
        lambda unit, n: (unit * n)[:10240],
        st.sampled_from(["a ", "pizza ", '"', "👍", "x", "AND ", "é*", " "]),
        st.integers(1000, 10240),
    ),
)


@pytest.fixture(scope="module")
def fts_conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    conn.execute(
        "INSERT INTO chats (jid) VALUES ('15551234567@s.whatsapp.net')",
    )
    conn.execute(
        "INSERT INTO messages (id, chat_jid, content, timestamp) VALUES "
        "('A', '15551234567@s.whatsapp.net', 'pizza café 👍 don''t foo-bar', 1)"
    )
    yield conn
    conn.close()


@settings(max_examples=scaled(1500), deadline=None, suppress_health_check=SUPPRESS)
@given(query=fts_queries)
def test_fuzz_fts_queries_build_valid_match_expressions(
    fts_conn: sqlite3.Connection, query: str
) -> None:
    RAN["fts"] += 1
    try:
        expr = build_match(query)
    except InvalidArgument:
        return  # typed, with a message saying how to search instead
    # SQLite must accept whatever we built (a syntax error here would reach the user).
    fts_conn.execute(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (expr,)
    ).fetchall()


# ---------------------------------------------------------------- control API


class _Echo(BaseModel):
    text: str


class _Ok(BaseModel):
    ok: bool = True


async def _ok(_: object) -> _Ok:
    return _Ok()


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


TOKEN = "fuzz-token-123"
_GOOD_HEAD = (
    "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN + "\r\n"
    "Content-Type: application/json\r\nContent-Length: 15\r\n\r\n"
).encode()
_PIECES = [
    b"GET ",
    b"POST ",
    b"DELETE ",
    b"/health",
    b"/api/echo",
    b"/api/events",
    b"/nope",
    b"?x=1",
    b" HTTP/1.1",
    b" HTTP/2",
    b" HTTP/1.0",
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b"Host: localhost\r\n",
    b"Host: evil.example\r\n",
    b"Origin: http://evil\r\n",
    ("Authorization: Bearer " + TOKEN + "\r\n").encode(),
    b"Authorization: Bearer wrong\r\n",
    b"Authorization: Basic abc\r\n",
    b"Authorization:\r\n",
    b"Content-Type: application/json\r\n",
    b"Content-Type: text/plain\r\n",
    b"Content-Length: 15\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: 99999999999\r\n",
    b"Content-Length: abc\r\n",
    b"Content-Length: 0\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"X-Weird: \x00\xff\xfe\r\n",
    b": no name\r\n",
    b"no colon here\r\n",
    b'{"text": "hi"}',
    b'{"text": 5}',
    b'{"text": "hi", "extra": 1}',
    b"[1, 2",
    b"\xff\xfe\x00",
    b"null",
    b"x" * 20000,
]
raw_requests = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=14).map(b"".join),
    st.binary(max_size=600),
    st.builds(lambda cut: _GOOD_HEAD[:cut], st.integers(0, len(_GOOD_HEAD))),
    st.builds(
        lambda body: (
            _GOOD_HEAD.replace(b"Content-Length: 15", f"Content-Length: {len(body)}".encode())
            + body
        ),
        st.binary(max_size=200) | st.text(max_size=100).map(lambda t: t.encode()),
    ),
)


@pytest.fixture(scope="module")
def control_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, _Failures]]:
    """A real ControlServer (the bridge's HTTP code) on a Unix socket, on its own loop thread."""
    sock = tmp_path_factory.mktemp("ctl") / "c.sock"
    failures = _Failures()
    watched = [logging.getLogger(name) for name in ("bridge.server", "uvicorn", "sse_starlette")]
    for logger in watched:
        logger.addHandler(failures)
    routes = [Route("GET", "/health", _ok), Route("POST", "/api/echo", _ok, _Echo)]

    async def stream() -> AsyncIterator[str]:
        yield "{}"

    with anyio.from_thread.start_blocking_portal() as portal:
        server = ControlServer(TOKEN, routes, streams={"/api/events": stream})
        portal.call(server.start_unix, sock)
        try:
            yield sock, failures
        finally:
            portal.call(server.close)
            for logger in watched:
                logger.removeHandler(failures)


def _exchange(sock_path: Path, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(sock_path))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


@settings(max_examples=scaled(400), deadline=None, suppress_health_check=SUPPRESS)
@given(data=raw_requests)
def test_fuzz_raw_requests_over_a_real_socket_get_well_formed_answers(
    control_server: tuple[Path, _Failures], data: bytes
) -> None:
    RAN["http_socket"] += 1
    sock, failures = control_server
    answer = _exchange(sock, data)
    if answer:
        status_line = answer.split(b"\r\n", 1)[0].split(b" ")
        assert status_line[0] == b"HTTP/1.1" and status_line[1].isdigit(), answer[:200]
        assert int(status_line[1]) != 500, answer[:300]  # 500 = an unhandled error
    assert failures.records == [], [r.getMessage() for r in failures.records]


def test_the_control_server_still_answers_after_the_fuzzing(
    control_server: tuple[Path, _Failures],
) -> None:
    sock, failures = control_server
    answer = _exchange(sock, _GOOD_HEAD + b'{"text": "hi!"}')
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert failures.records == []


# ---------------------------------------------------------------- tool arguments

_ODD_STRINGS = [
    *_ODD_TEXT,
    *_JIDS,
    "x" * 10000,
    "../../../etc/passwd",
    "/etc/passwd",
    "~/.ssh/id_rsa",
    "2024-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59+14:00",
    "not a date",
    "eyJub3QiOiAiYSBjdXJzb3IifQ",
    "all_contacts",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    options = schema.get("anyOf")
    if options:
        return st.one_of([_value_for(o) for o in options])
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.text(max_size=8)
    kind = schema.get("type")
    if kind == "string":
        return st.sampled_from(_ODD_STRINGS) | st.text(max_size=100)
    if kind == "integer":
        return st.sampled_from([0, 1, -1, 50, 200, 201, 10**12]) | st.integers()
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_values


@pytest.fixture(scope="module")
def mcp_portal(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[anyio.from_thread.BlockingPortal, Client, dict[str, dict[str, Any]]]]:
    """One MCP server and its bridge on simulated WhatsApp, in-process, for all examples."""
    data_dir = tmp_path_factory.mktemp("fuzz-tools") / "data"
    env = sim_env(data_dir, WHATSAPP_MCP_MEDIA_ROOTS=str(data_dir.parent))
    settings_ = load_settings(env=env)
    with anyio.from_thread.start_blocking_portal() as portal:
        # Entered and left in one task, as the client's task group requires.
        with portal.wrap_async_context_manager(in_process(settings_)) as both:
            client = both.client
            schemas = {t.name: t.input_schema for t in portal.call(client.list_tools).tools}
            portal.call(_wait_seeded, client)
            yield portal, client, schemas


async def _wait_seeded(client: Client) -> None:
    async def connected() -> bool:
        r = await client.call_tool("get_status", {})
        return (r.structured_content or {}).get("state") == "connected"

    await eventually_async(connected, timeout=60, what="a connected bridge")


@st.composite
def tool_calls(draw: st.DrawFn, schemas: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    # get_login_qr takes no arguments and may wait 20 s for a QR code: nothing to fuzz there.
    name = draw(st.sampled_from(sorted(set(schemas) - {"get_login_qr"})))
    props: dict[str, Any] = schemas[name].get("properties", {})
    args: dict[str, Any] = {}
    for prop, schema in props.items():
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing, even when required
        args[prop] = draw(json_values if choice == 1 else _value_for(schema))
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    # wait_for_messages / sync_history legitimately wait up to 100 s: fuzz them with short waits.
    for wait in (w for w in ("timeout_s", "wait_s") if w in props):
        value = args.get(wait, 0.5)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = min(value, 0.5)
        args[wait] = value  # other junk stays: it must fail validation, quickly
    return name, args


def test_fuzz_tool_arguments_never_crash_a_tool(
    mcp_portal: tuple[anyio.from_thread.BlockingPortal, Client, dict[str, dict[str, Any]]],
) -> None:
    portal, client, schemas = mcp_portal
    crashes: list[str] = []

    @settings(max_examples=scaled(300), deadline=None, suppress_health_check=SUPPRESS)
    @given(call=tool_calls(schemas))
    def run(call: tuple[str, dict[str, Any]]) -> None:
        name, args = call
        RAN["tools"] += 1

        async def invoke() -> Any:
            with anyio.fail_after(60):
                return await client.call_tool(name, args)

        result = portal.call(invoke)
        if result.is_error:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            # An unexpected exception: the server says only that (mcp_server/errors.py), or the
            # SDK's bare wrapper if something bypassed it.
            if "failed unexpectedly" in text or "Error executing tool" in text:
                crashes.append(f"{name}({args!r:.200})")

    run()
    assert crashes == [], crashes[:10]


def test_fuzzers_ran_their_examples() -> None:
    """Runs last in this file: the example counts behind the README's figures."""
    print(f"fuzz examples run: {RAN}")
    if not any(RAN.values()):
        pytest.skip("the fuzzers were deselected")
    assert RAN["ingest"] >= scaled(600) // 2
    assert RAN["fts"] >= scaled(1500) // 2
    assert RAN["http_socket"] >= scaled(400) // 2
    assert RAN["tools"] >= scaled(300) // 2
