"""Errors raised by the store.

StoreError
 ├── NotFound            a chat, contact or message that does not exist
 ├── Ambiguous           a name that matches more than one chat or contact
 ├── InvalidArgument     a malformed JID, phone number, cursor or query
 ├── SchemaTooNew        the file was written by a newer whatsapp-mcp
 └── StoreCorrupt        SQLite reports damage; the store is not usable for writes
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class for store errors; the message is meant for a person or a model to act on."""


class NotFound(StoreError):
    """No row matches."""


class Ambiguous(StoreError):
    """A name matches several rows; `candidates` lists them."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class InvalidArgument(StoreError):
    """An argument cannot be parsed."""


class SchemaTooNew(StoreError):
    """The database was created by a newer version of whatsapp-mcp."""


class StoreCorrupt(StoreError):
    """SQLite reports the file as damaged."""
