"""`NeonizeTransport`: WhatsApp through neonize (Python over Go's whatsmeow). The only package
that imports neonize; `convert*` turns its protobufs into our events."""
