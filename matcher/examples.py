"""Labelled texts: what staff (or customers' purchases) said a text means."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    text: str
    # None: the text names no part of the catalog.
    sku: str | None
    # How the text is written (plain, typo, symptom, ...), for per-style figures in an
    # evaluation; empty when the data does not say. Training ignores it.
    style: str = ""
    # The vehicle the storefront sends as context with the text (Match's `vehicle`); empty
    # when none is sent.
    vehicle: str = ""
