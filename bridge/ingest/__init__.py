"""Events into the store: applying transport events, and the one thread that writes SQLite."""
