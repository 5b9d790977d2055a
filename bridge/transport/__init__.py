"""How the bridge reaches WhatsApp: the `Transport` protocol and its events (`protocol.py`), the
real one on neonize (`neonize/`) and a simulated network for demo mode and tests (`simulated/`)."""
