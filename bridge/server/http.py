"""Temporary re-export so branches written before the Starlette control plane still import.

The hand-written HTTP parser that lived here is gone (the control API is Starlette on uvicorn,
see `bridge.server.app`). Import `HttpError` from `bridge.server.errors`; delete this module
once no branch imports it.
"""

from bridge.server.errors import HttpError

__all__ = ["HttpError"]
