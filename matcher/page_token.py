"""Page tokens: the opaque cursors that ListParts and ListPending hand out and take back.

A token is URL-safe base64 of the sort key of the last item of a page (keyset pagination: a
later page starts after that key, however the table changed meanwhile). Callers only pass a
token back; anything that is not one this server issued is refused as such, never guessed at.
Each listing keeps the payload it has always had, so a token issued before an upgrade still
reads the same after it.
"""

from __future__ import annotations

import base64
import json

from matcher.limits import shortened

# ListParts: the last SKU of the page, after a prefix so that a random string is not a SKU.
_AFTER_SKU = "after:"


class BadPageToken(ValueError):
    """A page_token this server did not issue; the message names the field."""

    def __init__(self, token: str) -> None:
        super().__init__(f"page_token {shortened(token)!r} is not a token this server issued")


def _wrap(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


def _unwrap(token: str) -> bytes:
    try:
        # validate: a character outside the URL-safe alphabet is not skipped but refused.
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True)
    except ValueError:  # binascii.Error, and UnicodeEncodeError for a lone surrogate
        raise BadPageToken(token) from None


def sku_token(sku: str) -> str:
    """The ListParts token for the page after the part `sku`."""
    return _wrap((_AFTER_SKU + sku).encode())


def after_sku(token: str) -> str:
    """The SKU a ListParts token continues after; "" (the first page) for no token."""
    if not token:
        return ""
    try:
        decoded = _unwrap(token).decode()
    except UnicodeDecodeError:
        raise BadPageToken(token) from None
    if not decoded.startswith(_AFTER_SKU):
        raise BadPageToken(token)
    return decoded.removeprefix(_AFTER_SKU)


def queue_token(priority: float, created_at: float, review_id: str) -> str:
    """The ListPending token for the page after the item with this sort key."""
    return _wrap(json.dumps([priority, created_at, review_id]).encode())


def queue_position(token: str) -> tuple[float, float, str]:
    """The sort key (priority, created_at, id) a ListPending token continues after."""
    payload = _unwrap(token)
    try:
        priority, created_at, review_id = json.loads(payload)
        return float(priority), float(created_at), str(review_id)
    # RecursionError: deeply nested JSON; OverflowError: an integer too large for a float.
    except (ValueError, TypeError, RecursionError, OverflowError):
        raise BadPageToken(token) from None
