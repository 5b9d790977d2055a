"""An in-memory WhatsApp: the seeded network of `simulated.seed`, peers that answer, injection.

It implements the whole `Transport` protocol and reports its world through the same events a
real history sync produces (contacts, groups, history batches, reactions), so everything
downstream of the transport runs unchanged in tests, in the `--simulate` demo and in benchmarks.
"""

from __future__ import annotations

from bridge.transport.simulated.net_base import MAX_ANSWERS_PER_PEER, ReadMark, SentReaction
from bridge.transport.simulated.net_people import SimulatedPeople

__all__ = ["MAX_ANSWERS_PER_PEER", "ReadMark", "SentReaction", "SimulatedTransport"]


class SimulatedTransport(SimulatedPeople):
    """A scriptable WhatsApp that is always paired (until `logout`) and answers like people
    do; see net_base, net_history and net_people. Deterministic: two transports with the same
    seed and clock produce the same events."""
