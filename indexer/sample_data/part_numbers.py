"""OEM-looking part numbers in the style of each vehicle maker, drawn from a seeded generator."""

from __future__ import annotations

import random

from indexer.sample_data.vehicles import Vehicle

_UPPER = "ABCDEFGHJKLMNPRSTVWXZ"
_VW_PREFIXES = {"Golf": ("5Q0", "5G0", "1K0"), "Polo": ("6R0", "6Q0", "6C0")}
# Other models of the group (scaled catalogs, fleet.py).
_VW_GROUP_PREFIXES = ("3C0", "8V0", "5N0", "4G0", "8K0", "6J0", "3V0")


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_UPPER) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def draw_part_number(rng: random.Random, vehicle: Vehicle | None) -> str:
    """An OEM-looking number in the style of the vehicle's maker (aftermarket style otherwise)."""
    style = vehicle.pn_style if vehicle is not None else "aftermarket"
    if style == "toyota":
        return f"{_digits(rng, 5)}-{_digits(rng, 5)}"
    if style == "vw":
        assert vehicle is not None
        suffix = rng.choice(("", "", "A", "B", "C", "D", "AA", "AB", "AC", "BD"))
        prefixes = _VW_PREFIXES.get(vehicle.model, _VW_GROUP_PREFIXES)
        return f"{rng.choice(prefixes)}{_digits(rng, 6)}{suffix}"
    if style == "honda":
        code = f"{_letters(rng, 2)}{rng.choice('0123456789A')}"
        return f"{_digits(rng, 5)}-{code}-{rng.choice(('A01', 'A02', 'E01', '003'))}"
    if style == "bmw":
        return f"{rng.randint(11, 64)}{_digits(rng, 9)}"
    if style == "ford":
        middle = f"{_digits(rng, 1)}{_letters(rng, 1)}{_digits(rng, 3)}"
        return f"{_letters(rng, 2)}{_digits(rng, 2)}-{middle}-{_letters(rng, 2)}"
    if style == "nissan":
        tail = f"{_digits(rng, 1)}{_letters(rng, 2)}{_digits(rng, 1)}{_letters(rng, 1)}"
        return f"{rng.choice('D4')}{_digits(rng, 4)}-{tail}"
    if rng.random() < 0.5:
        return f"{_letters(rng, 3)}-{_letters(rng, 2)}{_digits(rng, 2)}"
    return f"0{_digits(rng, 9)}"
