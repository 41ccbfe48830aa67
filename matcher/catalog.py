"""Catalog parts and their validation.

A `Part` is immutable; the catalog changes by replacing parts (upsert) or retiring them.
Validation lives here so that files, gRPC calls and stores all refuse the same things.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matcher.limits import DEFAULT_LIMITS, Limits, bad_sku_character, bad_text_character, describe


class CatalogError(ValueError):
    """A part or catalog change that cannot be accepted; the message says what and where."""


@dataclass(frozen=True)
class Part:
    sku: str
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    active: bool = True

    def names(self) -> tuple[str, ...]:
        """The name and every alias: what a customer may call this part."""
        return (self.name, *self.aliases)

    def catalog_text(self) -> str:
        """One text for lexical and semantic indexing: names first, as they matter most."""
        parts = [self.name, *self.aliases]
        category = self.attributes.get("category")
        if category:
            parts.append(category)
        if self.description:
            parts.append(self.description)
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "aliases": list(self.aliases),
            "attributes": dict(self.attributes),
            "active": self.active,
        }


def part_from_dict(raw: Any, where: str) -> Part:
    """Build a Part from decoded JSON; `where` (e.g. "catalog.jsonl:12") prefixes every error."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    unknown = set(raw) - {"sku", "name", "description", "aliases", "attributes", "active"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("sku", "name"):
        if required not in raw:
            raise CatalogError(f"{where}: missing required field '{required}'")
    description = raw.get("description", "")
    aliases = raw.get("aliases", [])
    attributes = raw.get("attributes", {})
    active = raw.get("active", True)
    if not isinstance(description, str):
        raise CatalogError(f"{where}: 'description' must be a string")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise CatalogError(f"{where}: 'aliases' must be a list of strings")
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) for k, v in attributes.items()
    ):
        raise CatalogError(f"{where}: 'attributes' must map strings to strings or numbers")
    if not isinstance(active, bool):
        raise CatalogError(f"{where}: 'active' must be true or false")
    return make_part(
        sku=raw["sku"],
        name=raw["name"],
        description=description,
        aliases=aliases,
        attributes={k: str(v) for k, v in attributes.items()},
        active=active,
        where=where,
    )


def check_sku(sku: Any, where: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """A SKU is visible text: no surrounding spaces, no control or invisible characters."""
    if not isinstance(sku, str) or not sku.strip():
        raise CatalogError(f"{where}: 'sku' must be a non-empty string")
    shown = sku if len(sku) <= 40 else sku[:40] + "..."
    if sku != sku.strip() or len(sku) > limits.max_sku_chars:
        raise CatalogError(
            f"{where}: sku {shown!r} must have no surrounding spaces "
            f"and at most {limits.max_sku_chars} characters"
        )
    bad = bad_sku_character(sku)
    if bad is not None:
        raise CatalogError(f"{where}: sku {shown!r} holds the invisible character {describe(bad)}")


def make_part(
    *,
    sku: Any,
    name: Any,
    description: str = "",
    aliases: Sequence[str] = (),
    attributes: Mapping[str, str] | None = None,
    active: bool = True,
    where: str = "part",
    limits: Limits = DEFAULT_LIMITS,
) -> Part:
    check_sku(sku, where, limits)
    if not isinstance(name, str) or not name.strip():
        raise CatalogError(f"{where}: part {sku!r} needs a non-empty 'name'")
    aliases = list(aliases)
    attributes = dict(attributes or {})
    fields: list[tuple[str, str, int, bool]] = [
        ("name", name, limits.max_name_chars, False),
        ("description", description, limits.max_description_chars, True),
        *((f"aliases[{i}]", a, limits.max_alias_chars, False) for i, a in enumerate(aliases)),
        *(
            (f"attributes[{k!r}]", v, limits.max_attribute_value_chars, False)
            for k, v in attributes.items()
        ),
    ]
    for label, count, most in (
        ("aliases", len(aliases), limits.max_aliases),
        ("attributes", len(attributes), limits.max_attributes),
    ):
        if count > most:
            raise CatalogError(f"{where}: part {sku!r} has {count} {label}; at most {most}")
    for key in attributes:
        if not key.strip() or len(key) > limits.max_attribute_key_chars:
            raise CatalogError(
                f"{where}: part {sku!r} attribute names must be 1 to "
                f"{limits.max_attribute_key_chars} characters"
            )
        fields.append(("attribute name", key, limits.max_attribute_key_chars, False))
    for label, value, most, newlines in fields:
        if len(value) > most:
            raise CatalogError(f"{where}: part {sku!r} {label} is over {most} characters")
        bad = bad_text_character(value, allow_newlines=newlines)
        if bad is not None:
            raise CatalogError(
                f"{where}: part {sku!r} {label} holds the control character {describe(bad)}"
            )
    cleaned_aliases = tuple(dict.fromkeys(a.strip() for a in aliases if a.strip()))
    return Part(
        sku=sku,
        name=name.strip(),
        description=description.strip(),
        aliases=cleaned_aliases,
        attributes=attributes,
        active=active,
    )


def check_unique(parts: Sequence[Part], where: str) -> None:
    seen: set[str] = set()
    for part in parts:
        if part.sku in seen:
            raise CatalogError(f"{where}: duplicate sku {part.sku!r}")
        seen.add(part.sku)
