"""Keeping a bridge for this server: start it after the handshake, restart it with backoff,
replace a hung one, trip a breaker on a crash loop, and refuse writes while the running bridge
has other security settings than this server."""
