"""Entry point of the Claude Desktop bundle (`server.type: uv`): the host runs
`uv run --directory <bundle> server/main.py serve`; uv installs this project and its pinned
dependencies (the right neonize wheel for the machine) into the bundle's own environment.

Copied into the bundle as `server/main.py` by scripts/build_mcpb.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The bundle's root holds the packages; uv installs them too, this only makes a bare run work.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# An optional user_config field the user left empty reaches us as "" or unsubstituted: treat it
# as unset, so the setting keeps its default (the platform's data dir, for one).
for _name, _value in list(os.environ.items()):
    empty = _value.strip() == "" and _name.startswith(("WHATSAPP_MCP_", "GEMINI_", "GOOGLE_"))
    if empty or "${user_config." in _value:
        del os.environ[_name]

from mcp_server.cli import main  # noqa: E402  (after the environment is clean)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["serve"]))
