"""The bridge process's exit codes that mean "restarting would fail the same way"."""

from __future__ import annotations

EXIT_BAD_SETTINGS = 2
EXIT_STORE_UNUSABLE = 3
