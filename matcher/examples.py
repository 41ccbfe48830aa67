"""Labelled texts: what staff (or customers' purchases) said a text means."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    text: str
    # None: the text names no part of the catalog.
    sku: str | None
