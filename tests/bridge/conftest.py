"""Fixtures: a fake Gemini endpoint that the real google-genai client reaches through the
environment (GEMINI_API_KEY, GOOGLE_GEMINI_BASE_URL), exactly as a spawned bridge would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bridge.fake_gemini import FakeGemini


@pytest.fixture
def fake_gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    fake = FakeGemini()
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    yield fake
    fake.close()
