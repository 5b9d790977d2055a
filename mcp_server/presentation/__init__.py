"""What the model reads: compact views of the store's models, their one-line text rendering,
and tool definitions made smaller (every host sends them on every turn)."""
