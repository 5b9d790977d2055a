"""Why the bridge turns a request down, in the bridge's own terms.

Domain code (pairing, media downloads, transcription) raises these and knows nothing of HTTP;
the control API answers each kind with its status (`bridge/server/error_map.py`). `code` is
machine-readable; the message tells the caller what it can do next.
"""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Conflict(Refused):
    """The request needs another state than the current one (the device is already linked)."""


class Unavailable(Refused):
    """WhatsApp, or a service the request needs, cannot be used now; a later try can work."""


class TimedOut(Refused):
    """What the request waits for did not come within the time it allowed."""


class Gone(Refused):
    """What the request names no longer exists anywhere (media WhatsApp no longer keeps)."""


class TooLarge(Refused):
    """What the request names is over a limit the bridge or a service it calls has."""


class Unsuitable(Refused):
    """The request names something of the wrong kind (a photo given to transcription)."""


class NeedsSetup(Refused):
    """A setting the request needs is missing (no Gemini API key)."""


class UpstreamRefused(Refused):
    """A service the bridge called turned the request down (Gemini)."""
