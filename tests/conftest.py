"""Shared fixtures: settings, the real sentence-transformer (loaded once), small catalogs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from matcher.catalog import Part, make_part
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example

pytest_plugins = ["tests.search_node"]

# A caller with every role, for tests about something other than who may call what
# (tests/test_access.py covers that).
TESTER_TOKEN = "tester-token-0123456789abcdef"
TESTER = f"tester:storefront+catalog+staff+admin:{TESTER_TOKEN}"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.from_env(state_dir=tmp_path_factory.mktemp("state"))


@pytest.fixture(scope="session")
def encoder(base_settings: Settings) -> Iterator[Encoder]:
    yield Encoder(base_settings.model_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        state_dir=tmp_path / "state", grpc_address="127.0.0.1:0", tokens=TESTER
    )


def tiny_catalog() -> list[Part]:
    """A dozen parts with the traps of the real catalog: near-twins, regional names, codes."""
    return [
        make_part(
            sku="BRK-F",
            name="front brake pads",
            aliases=["front brake pad set"],
            attributes={"category": "brakes", "part_number": "04465-33471"},
        ),
        make_part(sku="BRK-R", name="rear brake pads", attributes={"category": "brakes"}),
        make_part(sku="BRK-D", name="front brake disc", aliases=["front brake rotor"]),
        make_part(sku="ALT", name="alternator", description="12V alternator, 90A"),
        make_part(sku="HOOD-L", name="hood latch", aliases=["bonnet latch", "bonnet catch"]),
        make_part(sku="STEER", name="steering wheel"),
        make_part(sku="WIPER", name="wiper blade 24 inch", aliases=["windscreen wiper 24in"]),
        make_part(sku="TYRE", name="tire 205/55 R16", aliases=["tyre 205/55 R16"]),
        make_part(sku="MUFF", name="muffler", aliases=["silencer", "exhaust silencer"]),
        make_part(
            sku="BATT",
            name="car battery 70Ah",
            attributes={"part_number": "DAV-IS50"},
        ),
        make_part(sku="OILF", name="oil filter"),
        make_part(sku="SPARK", name="spark plug", aliases=["spark plugs"]),
    ]


def tiny_history() -> list[Example]:
    return [
        Example("the round thing you steer with", "STEER"),
        Example("thing you hold to drive", "STEER"),
        Example("the thing that stops the car at the back", "BRK-R"),
        Example("stopping pads for the front wheels", "BRK-F"),
        Example("charging thing for the battery", "ALT"),
        Example("where is my order", None),
        Example("do you sell gift cards", None),
        Example("what are your opening hours", None),
    ]


@pytest.fixture
def parts() -> list[Part]:
    return tiny_catalog()


@pytest.fixture
def history() -> list[Example]:
    return tiny_history()
