"""Words customers use for sides and positions, whatever the catalog calls them.

A synonym applies only where the catalog has the value it stands for (a catalog without a
`side` attribute never reads "left" as anything). Driver and passenger sides depend on the
market: `driver_side` says where the driver sits ("left" in the US and continental Europe,
"right" in the UK); the nearside is the kerb side, where the passenger sits.
"""

from __future__ import annotations

from collections.abc import Mapping

# Canonical value -> phrases (space-separated folded words) that state it.
VALUE_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "left": ("left", "lh", "l h", "left hand", "lhs"),
    "right": ("right", "rh", "r h", "right hand", "rhs"),
    "front": ("front", "frt", "fr", "forward"),
    "rear": ("rear", "back", "rr"),
    "upper": ("upper", "top"),
    "lower": ("lower", "bottom"),
    "inner": ("inner", "inside"),
    "outer": ("outer", "outside"),
    "upstream": ("upstream", "pre cat", "before the cat"),
    "downstream": ("downstream", "post cat", "after the cat"),
}

SIDES = ("left", "right")


def side_synonyms(driver_side: str | None) -> dict[str, tuple[str, ...]]:
    """Phrases for left and right under the configured market convention."""
    if driver_side is None:
        return {}
    if driver_side not in SIDES:
        raise ValueError(f"driver_side must be 'left' or 'right', got {driver_side!r}")
    passenger = "right" if driver_side == "left" else "left"
    return {
        driver_side: ("driver side", "drivers side", "driver s side", "offside", "o s"),
        passenger: ("passenger side", "passengers side", "passenger s side", "nearside", "n s"),
    }
