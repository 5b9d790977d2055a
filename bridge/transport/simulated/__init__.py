"""`SimulatedTransport`: a seeded, deterministic WhatsApp world for demo mode and tests, with
peers who answer; no network."""
