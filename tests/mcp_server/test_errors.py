"""The error rewriting of mcp_server.errors, through a real in-process client."""

from __future__ import annotations

from typing import Annotated

import pytest
from mcp import Client
from pydantic import Field

from mcp_server.errors import WhatsAppServer
from tests.helpers import error_of

pytestmark = pytest.mark.anyio


def server() -> WhatsAppServer:
    s = WhatsAppServer("t")

    @s.tool()
    async def explode(n: Annotated[int, Field(ge=1, le=5)] = 1) -> str:
        """Always crashes."""
        raise RuntimeError(f"secret internals {n}")

    return s


async def test_a_crash_says_what_to_do_and_nothing_of_its_internals() -> None:
    async with Client(server()) as client:
        text = await error_of(client, "explode")
    assert text.startswith("explode failed unexpectedly") and "get_status" in text
    assert "secret internals" not in text and "Error executing tool" not in text


async def test_validation_errors_are_one_sentence_naming_the_argument() -> None:
    async with Client(server()) as client:
        too_big = await error_of(client, "explode", n=9)
        wrong = await error_of(client, "explode", n="many")
        extra = await error_of(client, "explode", m=1)
    assert too_big.startswith("Argument `n` must be at most 5.") and "explode again" in too_big
    assert wrong.startswith("Argument `n` must be a number.")
    assert extra.startswith("Argument `m` is not an argument of explode") and "n." in extra
    for text in (too_big, wrong, extra):
        assert "validation error" not in text and "input_value" not in text
