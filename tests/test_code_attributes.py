"""Part and model numbers found by what an attribute's values look like across the catalog, or
declared in configuration, not only by the attribute's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.dataset import load_catalog
from matcher.app import build_matcher
from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogViewBuilder
from matcher.catalog_view.code_attributes import detected
from matcher.config import ConfigError, Settings
from matcher.decision import Decision
from matcher.encoder import Encoder
from matcher.query import Query
from matcher.signals.codes import CodeSignal

ROOT = Path(__file__).resolve().parent.parent

# An electronics shop whose model numbers sit in `modelno` and nowhere in the names.
MODELS = {
    "TV46": ("samsung 46 inch lcd hdtv", "LN46A650"),
    "TV52": ("samsung 52 inch lcd hdtv", "LN52A650"),
    "CAM": ("canon high definition camcorder", "HF10"),
    "PRN": ("canon pixma multifunction printer", "MX310"),
    "RANGE": ("lg freestanding electric range", "LRE30757BK"),
    "SWITCH": ("linksys 5 port network switch", "EZXS55W"),
    "BATT": ("sony camcorder battery", "NP-FH100"),
    "HT": ("sony bravia home theater system", "DAV-IS50"),
}


def shop(extra: dict[str, dict[str, str]] | None = None) -> list[Part]:
    return [
        make_part(
            sku=sku,
            name=name,
            attributes={"category": "electronics", "modelno": code, **(extra or {}).get(sku, {})},
        )
        for sku, (name, code) in MODELS.items()
    ]


def found_by_code(parts: list[Part], text: str) -> list[str]:
    view = CatalogViewBuilder().build(parts, [])
    return [h.sku for h in CodeSignal().search(view, Query.parse(text), 5)]


def test_a_model_number_in_an_attribute_of_any_name_matches(
    settings: Settings, encoder: Encoder
) -> None:
    matcher = build_matcher(settings, shop(), [], encoder=encoder)
    assert "modelno" in matcher.view.code_attributes
    result = matcher.match("LN-46A650")
    top = result.candidates[0]
    assert top.sku == "TV46" and top.signals.get("code", 0.0) > 0.0
    assert result.decision is Decision.AUTO_ACCEPT
    # Within other words, and typed in pieces, as customers do.
    assert matcher.match("do you have the ln46a650 in stock").candidates[0].sku == "TV46"
    assert matcher.match("np fh100").candidates[0].sku == "BATT"


@pytest.mark.parametrize(
    ("attribute", "values"),
    [
        ("price", ["849.99", "1299.99", "129.00", "1,049.00", "59.95", "2299.5", "399.99", "89.0"]),
        ("cost", ["849.99", "1299.99", "129.00", "1,049.00", "59.95", "2299.5", "399.99", "89.0"]),
        ("weight", ["1.7", "12.25", "0.45", "3.8", "22.1", "7.05", "1.15", "9.9"]),
        ("years", [f"20{y:02d}-20{y + 3:02d}" for y in range(8)]),
        (
            "tyre_size",
            ["195/65 R15", "205/55 R16", "225/45 R17", "235/40 R18", "245/35 R19", "175/70 R14"],
        ),
        ("oil", ["5W-30 1L", "5W-30 5L", "0W-20 5L", "10W-40 5L", "5W-40 4L", "15W-40 5L"]),
        ("released", [f"2008-0{m}-1{m}" for m in range(1, 9)]),
        ("resolution", ["1920x1080", "1366x768", "1280x720", "3840x2160", "1024x768", "800x600"]),
        ("category", ["tv", "camera", "printer", "range", "network", "battery", "audio", "tv"]),
        ("model", ["Civic", "3 Series", "Golf", "Corolla", "F-150", "Focus", "Astra", "Clio"]),
        ("capacity", ["16GB", "16GB", "32GB", "32GB", "64GB", "8GB", "16GB", "32GB"]),
    ],
)
def test_values_that_are_not_part_numbers_are_not_detected(
    attribute: str, values: list[str]
) -> None:
    parts = shop({sku: {attribute: v} for sku, v in zip(MODELS, values, strict=False)})
    assert detected(parts) == {"modelno"}


def test_long_digit_runs_are_part_numbers_too() -> None:
    oem = ["13840546186", "0986494123", "04465-33471", "57358-21347", "1K0 615 301 AA"]
    parts = shop({sku: {"oem": v} for sku, v in zip(MODELS, oem * 2, strict=False)})
    # Of six holders, five have a number of their own; of eight, three share theirs with
    # another part: too many to say the attribute identifies its part.
    assert "oem" in detected(parts[:6]) and "oem" not in detected(parts)


def test_too_few_holders_are_not_enough_to_judge_by() -> None:
    few = {sku: {"ref": f"QX-{i}781B"} for i, sku in enumerate(list(MODELS)[:4])}
    assert "ref" not in detected(shop(few))
    more = {sku: {"ref": f"QX-{i}781B"} for i, sku in enumerate(MODELS)}
    assert "ref" in detected(shop(more))


def test_the_sample_catalog_holds_its_numbers_in_part_number_alone() -> None:
    catalog = load_catalog(ROOT / "data" / "sample" / "catalog.jsonl")
    assert detected([p for p in catalog if p.active]) == {"part_number"}


def test_upserts_and_retirements_keep_the_decision_of_the_build() -> None:
    builder, codes = CatalogViewBuilder(), CodeSignal()
    view = builder.build(shop(), [])
    new = make_part(sku="DOCK", name="ipod dock", attributes={"modelno": "IH70SRC"})
    view = builder.upsert(view, [new])
    assert "modelno" in view.code_attributes
    assert [h.sku for h in codes.search(view, Query.parse("ih70src"), 1)] == ["DOCK"]
    # Fewer holders than a build would judge by: the parts left are still found by their codes.
    view = builder.retire(view, ["TV46", "TV52", "CAM", "PRN", "RANGE", "SWITCH"])
    assert "modelno" in view.code_attributes
    assert [h.sku for h in codes.search(view, Query.parse("ih70src"), 1)] == ["DOCK"]
    assert [h.sku for h in codes.search(view, Query.parse("dav-is50"), 1)] == ["HT"]
    # A catalog that starts with one part judges nothing by it; an upsert does not either.
    small = builder.build(shop()[:1], [])
    assert "modelno" not in small.code_attributes
    grown = builder.upsert(small, shop()[1:])
    assert "modelno" not in grown.code_attributes
    assert codes.search(grown, Query.parse("mx310"), 1) == []


def test_configuration_declares_an_attribute(tmp_path: Path, encoder: Encoder) -> None:
    parts = shop({"CAM": {"supplier_ref": "ZK-88213"}, "PRN": {"supplier_ref": "ZK-88214"}})
    assert "supplier_ref" not in detected(parts)  # two holders: too few to judge by
    assert found_by_code(parts, "zk88213") == []

    settings = Settings.from_env(
        {"PARTMATCH_CODE_ATTRIBUTES": " supplier_ref, , extra_ref "},
        state_dir=tmp_path / "state",
    )
    assert settings.code_attribute_names == ("supplier_ref", "extra_ref")
    matcher = build_matcher(settings, parts, [], encoder=encoder)
    result = matcher.match("ZK-88213")
    assert result.candidates[0].sku == "CAM" and result.candidates[0].signals.get("code")
    assert matcher.match("zk 88214").candidates[0].sku == "PRN"


def test_a_declared_name_longer_than_an_attribute_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PARTMATCH_CODE_ATTRIBUTES"):
        Settings.from_env({"PARTMATCH_CODE_ATTRIBUTES": "x" * 65}, state_dir=tmp_path)
