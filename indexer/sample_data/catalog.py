"""The sample catalog generator: every variant of every part kind as a ``catalog.jsonl`` record."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.sample_data.fleet import fleet
from indexer.sample_data.kinds import KINDS, Kind, Size
from indexer.sample_data.part_numbers import draw_part_number
from indexer.sample_data.vehicles import VEHICLES, Vehicle

# The seed the committed data/sample files come from.
DEFAULT_SEED = 7

BRANDS = (
    "Norden",
    "Apex Motive",
    "Roadwise",
    "Ferrox",
    "Kestrel Parts",
    "Brightline",
    "Tarmac Pro",
    "Veloce",
)
AVAILABILITY = (("in_stock", 70), ("low_stock", 15), ("backorder", 10), ("out_of_stock", 5))


@dataclass(frozen=True)
class GeneratedPart:
    """One catalog variant with what it was generated from, which the text generator needs.

    Not a `matcher.catalog.Part`: it keeps the kind, position, side, size and vehicle that
    customer texts are worded from; `record` gives the catalog's view of it.
    """

    sku: str
    kind: Kind
    position: str
    side: str
    size: Size | None
    vehicle: Vehicle | None
    part_number: str

    def record(self, name: str, description: str, attributes: dict[str, str]) -> dict[str, object]:
        return {
            "sku": self.sku,
            "name": name,
            "description": description,
            "aliases": list(self.kind.aliases),
            "attributes": attributes,
            "active": True,
        }


def _variants(
    kind: Kind, rng: random.Random, fleet: Sequence[Vehicle], scale: float
) -> list[tuple[str, str, Size | None, Vehicle | None]]:
    sizes: Sequence[Size | None] = kind.sizes or (None,)
    vehicles: Sequence[Vehicle | None] = (None,)
    if kind.fits:
        pool = _pool(kind, fleet)
        vehicles = rng.sample(pool, _fitted(kind, len(pool), scale))
    return [
        (p, s, z, v)
        for v in vehicles
        for z in sizes
        for p in kind.positions or ("",)
        for s in (("left", "right") if kind.sided else ("",))
    ]


def _pool(kind: Kind, fleet: Sequence[Vehicle]) -> list[Vehicle]:
    return [v for v in fleet if not kind.models or v.model in kind.models]


def _fitted(kind: Kind, pool: int, scale: float) -> int:
    """How many vehicles a kind's variants fit: the sample's own count, times `scale`."""
    return min(max(kind.fits, round(kind.fits * scale)), pool)


def _variant_count(kind: Kind, fleet: Sequence[Vehicle], scale: float) -> int:
    per_vehicle = max(len(kind.positions), 1) * (2 if kind.sided else 1) * max(len(kind.sizes), 1)
    return per_vehicle * (_fitted(kind, len(_pool(kind, fleet)), scale) if kind.fits else 1)


def _scale_for(part_count: int, fleet: Sequence[Vehicle]) -> float:
    """The fits multiplier whose catalog comes closest to `part_count` parts."""
    low, high = 1.0, float(len(fleet))
    for _ in range(50):
        middle = (low + high) / 2
        if sum(_variant_count(k, fleet, middle) for k in KINDS) < part_count:
            low = middle
        else:
            high = middle
    return high


def _display_name(
    kind: Kind, position: str, side: str, size: Size | None, vehicle: Vehicle | None
) -> str:
    name = kind.name
    if position and not name.lower().startswith(position):
        name = f"{position.title()} {name}"
    if side:
        name = f"{name}, {side.title()}"
    if size is not None:
        name = f"{name} {size[0]}"
    if vehicle is not None:
        name = f"{name} - {vehicle.label}"
    return name


def _description(
    kind: Kind, position: str, side: str, vehicle: Vehicle | None, part_number: str, brand: str
) -> str:
    sentences = [kind.blurb]
    where = " ".join(w for w in (position, side) if w)
    if where:
        sentences.append(f"Fitting position: {where}.")
    if vehicle is not None:
        sentences.append(f"For {vehicle.label}.")
    sentences.append(f"Brand: {brand}.")
    if part_number:
        sentences.append(f"OE number {part_number}.")
    return " ".join(sentences)


def generate_parts(
    seed: int, part_count: int | None = None
) -> list[tuple[GeneratedPart, dict[str, object]]]:
    """Every catalog variant, in catalog order, paired with its ``catalog.jsonl`` record.

    `part_count`: about how many parts (None: the sample's own, about 300). A larger catalog fits
    each kind to more vehicles of a larger fleet (see fleet.py).
    """
    rng = random.Random(f"partmatch-catalog-{seed}")
    vehicles, scale = VEHICLES, 1.0
    if part_count is not None:
        vehicles = fleet(seed)
        scale = _scale_for(part_count, vehicles)
    parts: list[tuple[GeneratedPart, dict[str, object]]] = []
    counters: dict[str, int] = {}
    for kind in KINDS:
        for position, side, size, vehicle in _variants(kind, rng, vehicles, scale):
            # Real catalogs have gaps where parts were retired.
            counters[kind.code] = counters.get(kind.code, 0) + rng.choice((1, 1, 1, 2, 3))
            sku = f"PM-{kind.code}-{counters[kind.code]:04d}"
            part_number = draw_part_number(rng, vehicle) if rng.random() < kind.pn else ""
            brand = rng.choice(BRANDS)
            weight = kind.weight * rng.uniform(0.85, 1.15)
            attributes: dict[str, str] = {
                "category": kind.category,
                "brand": brand,
                "weight_kg": f"{weight:.2f}" if kind.weight < 1 else f"{weight:.1f}",
                "availability": rng.choices(
                    [a for a, _ in AVAILABILITY], [w for _, w in AVAILABILITY]
                )[0],
            }
            if position:
                attributes["position"] = position
            if side:
                attributes["side"] = side
            if size is not None:
                attributes["size"] = size[0]
            if vehicle is not None:
                attributes["make"] = vehicle.make
                attributes["model"] = vehicle.model
                attributes["years"] = f"{vehicle.first_year}-{vehicle.last_year}"
                attributes["fits"] = vehicle.label
            if part_number:
                attributes["part_number"] = part_number
            part = GeneratedPart(sku, kind, position, side, size, vehicle, part_number)
            record = part.record(
                _display_name(kind, position, side, size, vehicle),
                _description(kind, position, side, vehicle, part_number, brand),
                attributes,
            )
            parts.append((part, record))
    return parts


def build_catalog(seed: int = DEFAULT_SEED) -> list[dict[str, object]]:
    """Return the sample catalog: about 300 car parts as ``catalog.jsonl`` records."""
    return [record for _, record in generate_parts(seed)]


def catalog_jsonl(records: list[dict[str, object]]) -> str:
    """Serialise catalog records exactly as ``catalog.jsonl`` stores them."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
