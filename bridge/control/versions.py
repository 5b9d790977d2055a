"""Which release and which neonize is installed, and where upgrades come from.

The distribution on PyPI is `whatsapp-mcp-neonize` (the name `whatsapp-mcp` belongs to an
unrelated project: never tell anyone to install that). Upgrades come from this repository or
the Claude Desktop bundle; both pin neonize exactly, and a new neonize is what carries a new
WhatsApp client version after a 405 "client outdated".
"""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "whatsapp-mcp-neonize"
# The upgrade every message points to: from the user's clone of this repository (or a newer
# bundle). Never a bare package name until ours is published.
UPGRADE_COMMAND = "git pull && pipx install --force . (in your clone)"
# kv key the bridge sets when WhatsApp refuses the client as outdated (read by `doctor`).
OUTDATED_KV = "client_outdated_at"


def installed_version(dist: str = DISTRIBUTION) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def neonize_pin() -> str | None:
    """The exact neonize requirement this release declares (None when run from a bare tree)."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return None
    return next((r for r in requires if r.replace(" ", "").startswith("neonize==")), None)
