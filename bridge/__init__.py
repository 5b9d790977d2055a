"""The bridge daemon: holds the WhatsApp session, is the only writer of the store, sends
through one gate and runs auto-reply. Also the client side of its control API."""
