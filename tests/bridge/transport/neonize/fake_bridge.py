"""`python -m tests.bridge.transport.neonize.fake_bridge ARGS`: the real bridge (`bridge.main`),
with only neonize's Go library replaced by `fake_gocode.FakeGo` (scenario in the WA_FAKE_NEONIZE
variable)."""

from __future__ import annotations

import sys

from bridge.main import main, protect_stdout

if __name__ == "__main__":
    protect_stdout()  # before neonize loads, as bridge.main does
    from tests.bridge.transport.neonize.fake_gocode import install

    install()
    sys.exit(main(sys.argv[1:]))
