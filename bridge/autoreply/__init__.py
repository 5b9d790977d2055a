"""Auto-reply: inbound message events → rules → Gemini (or a fixed text) → the one send path.

Runs inside the bridge, so it runs exactly once however many MCP servers are attached, and keeps
running when the host window closes.

- `rules`: which rule applies to a message, quiet hours, mentions (pure functions);
- `prompt`: what the model sees (that chat's recent messages, as untrusted data);
- `replier`: the Replier protocol; `gemini` is its implementation and the only google-genai
  importer;
- `engine`: debounce, ledger claims, caps, pacing, sending;
- `api` / `routes`: the control API for rules.
"""
