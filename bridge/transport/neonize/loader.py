"""Loading neonize's modules (and our conversion module, which imports neonize's protobufs)
on first use, after `env.prepare_neonize_environment`, so importing the transport stays cheap.

Its own module: the conversion modules import `env`, so `env` must not import them back.
"""

from __future__ import annotations

from types import ModuleType

from bridge.transport.neonize.env import prepare_neonize_environment


def load_neonize() -> dict[str, ModuleType]:
    prepare_neonize_environment()
    import neonize.client as client
    import neonize.events as events
    import neonize.exc as exc
    import neonize.utils as utils
    import neonize.utils.enum as enum
    from neonize.proto.waCompanionReg import WAWebProtobufsCompanionReg_pb2 as reg
    from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as e2e

    from bridge.transport.neonize import convert

    return {
        "client": client,
        "events": events,
        "exc": exc,
        "utils": utils,
        "enum": enum,
        "reg": reg,
        "e2e": e2e,
        "convert": convert,
    }
