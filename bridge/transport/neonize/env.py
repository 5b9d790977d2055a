"""Loading neonize safely: stdout protected, environment set before the Go library loads.

neonize is imported lazily (`load_neonize()`), so importing our transport is cheap and the MCP
server process never loads the Go runtime. Call `protect_stdout()` and
`prepare_neonize_environment()` before the first import: Go prints to fd 1 and neonize
configures root logging at import.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import warnings


def protect_stdout() -> int:
    """Point fd 1 at stderr (Go and neonize print there); returns a dup of the original fd 1.

    The bridge calls this before importing neonize so nothing can corrupt a protocol that
    uses stdout. Idempotent enough: calling it twice just returns a dup of stderr.
    """
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return saved


_env_ready = False


def prepare_neonize_environment() -> None:
    """Settings that must be in place before neonize (and its Go library) loads."""
    global _env_ready
    if _env_ready:
        return
    # Go copies the environment when the .so loads; without this every 1:1 message we send
    # carries a <bot biz_bot="1"/> node and shows up as an "AI/bot" message.
    os.environ["NEONIZE_BOT_TAG"] = "off"
    root = logging.getLogger()
    level = root.level
    if not root.handlers:
        # neonize calls logging.basicConfig(INFO) at import; giving root a handler first turns
        # that call into a no-op, so neonize does not choose our format or verbosity.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        level = logging.WARNING if root.level == logging.NOTSET else root.level
    with warnings.catch_warnings():
        # neonize's import runs os.popen("uname -a") twice without closing the pipes.
        warnings.simplefilter("ignore", ResourceWarning)
        import neonize  # noqa: F401  (loads the Go library once, with the settings above)

        gc.collect()

    root.setLevel(level)
    for name in ("neonize", "whatsmeow", "Whatsmeow"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    # check_ffmpeg_available() warns on every connect attempt; we check ffmpeg ourselves.
    logging.getLogger("neonize.utils.ffmpeg").setLevel(logging.ERROR)
    _env_ready = True
