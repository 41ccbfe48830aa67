"""The lexical signal's contract, run on both backends: the embedded BM25Signal over the
catalog view and the ElasticsearchSignal over its remote index. Each runs behind a matcher,
which applies catalog changes the way the server does. Whatever holds here, the engine may rely
on whichever backend it gets."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator

import pytest

from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogViewBuilder
from matcher.decision import DecisionPolicy
from matcher.elastic.client import make_client
from matcher.elastic.index_writer import ElasticsearchIndex
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import WeightedFusion
from matcher.query import Query
from matcher.signals.base import Hit
from matcher.signals.elasticsearch import ElasticsearchSignal
from matcher.signals.lexical import BM25Signal

PARTS = [
    make_part(
        sku="ALT-1",
        name="Alternator 120A",
        description="Remanufactured alternator, 12V",
        aliases=["generator"],
        attributes={"category": "electrical"},
    ),
    make_part(sku="BRK-1", name="Rear Brake Pad Set", attributes={"category": "brakes"}),
    make_part(sku="BRK-2", name="Front Brake Disc", aliases=["rotor"]),
    make_part(sku="WIP-1", name="Wiper Blade 24in", aliases=["windscreen wiper"]),
    make_part(sku="BAT-1", name="Car Battery 70Ah", aliases=["accumulator"]),
    make_part(sku="FIL-1", name="Oil Filter"),
    make_part(sku="FIL-2", name="Cabin Air Filter", aliases=["pollen filter"]),
    make_part(sku="SPK-1", name="Spark Plug", aliases=["ignition plug"]),
    make_part(sku="MIR-1", name="Door Mirror Glass Left"),
    make_part(sku="RAD-1", name="Radiator"),
    make_part(sku="SEA-1", name="Café Racer Seat"),
    make_part(sku="TIM-1", name="Timing Belt Kit", aliases=["cam belt"]),
]
HISTORY = [
    # Lay texts that share no word with their part's catalog text.
    Example("squeal when i stop at the back", "BRK-1"),
    Example("cranks slow on cold mornings", "BAT-1"),
    Example("where is my order", None),
]

MakeSignal = Callable[..., Matcher]


def lexical_only(signal: BM25Signal | ElasticsearchSignal, lexical_history: bool | None) -> Matcher:
    remote = signal.index if isinstance(signal, ElasticsearchSignal) else None
    return Matcher(
        [signal],
        WeightedFusion(),
        DecisionPolicy(),
        "contract",
        views=CatalogViewBuilder(lexical_history=lexical_history),
        remote_indexes=[remote] if remote else [],
    )


@pytest.fixture(params=["bm25", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def make_signal(request: pytest.FixtureRequest) -> Iterator[MakeSignal]:
    if request.param == "bm25":
        yield lambda history=True: lexical_only(BM25Signal(), lexical_history=history)
        return
    es_url: str = request.getfixturevalue("es_url")
    prefix: str = request.getfixturevalue("es_prefix")
    # A generous timeout: the contract is about answers; latency has its own tests.
    client = make_client(es_url, timeout_s=10.0)
    numbers = itertools.count()

    def make(history: bool = True) -> Matcher:
        index = ElasticsearchIndex(
            client, f"{prefix}-{next(numbers)}", history=history, swap_grace_s=0
        )
        return lexical_only(ElasticsearchSignal(index), lexical_history=None)

    yield make
    client.close()


def loaded(make_signal: MakeSignal, history: bool = True, parts: list[Part] = PARTS) -> Matcher:
    backend = make_signal(history=history)
    backend.load(parts, HISTORY)
    return backend


def search(backend: Matcher, text: str, k: int = 10) -> list[Hit]:
    (signal,) = backend.signals
    return signal.search(backend.view, Query.parse(text), k)


def skus(signal: Matcher, text: str, k: int = 10) -> list[str]:
    return [h.sku for h in search(signal, text, k)]


def test_is_the_lexical_signal(make_signal: MakeSignal) -> None:
    assert [s.name for s in make_signal().signals] == ["lexical"]


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("alternator", "ALT-1"),
        ("need a radiator for my car", "RAD-1"),
        ("cabin air filter", "FIL-2"),
        ("accumulator", "BAT-1"),  # an alias
        ("brake pads", "BRK-1"),  # plural folded onto "Pad"
        ("cafe racer seat", "SEA-1"),  # accent folded on the index side
        ("CAFÉ SEAT", "SEA-1"),  # and on the query side
    ],
)
def test_finds_the_named_part_first(make_signal: MakeSignal, text: str, sku: str) -> None:
    assert skus(loaded(make_signal), text)[:1] == [sku]


def test_hits_are_well_formed(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal)
    hits = search(signal, "filter", k=10)
    assert {"FIL-1", "FIL-2"} <= {h.sku for h in hits}
    assert len({h.sku for h in hits}) == len(hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        assert 0.0 < hit.score <= 1.0
        assert set(hit.features) == {"bm25_catalog", "bm25_history"}
        assert all(0.0 <= v <= 1.0 for v in hit.features.values())
        # The score is the better of the two evidences, as the fusion expects.
        assert hit.score == pytest.approx(max(hit.features.values()))
    assert len(search(signal, "filter", k=1)) == 1


def test_unknown_or_empty_text_finds_nothing(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal)
    assert search(signal, "qqqq zzzz") == []
    assert search(signal, "   ") == []


def test_nothing_loaded_finds_nothing(make_signal: MakeSignal) -> None:
    assert search(make_signal(), "alternator") == []


def test_load_replaces_everything(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal)
    signal.load([make_part(sku="NEW-1", name="Fuel Pump")], [])
    assert skus(signal, "fuel pump") == ["NEW-1"]
    assert search(signal, "alternator") == []


def test_upsert_is_visible_at_once(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal)
    signal.upsert(
        [
            make_part(sku="NEW-1", name="Fuel Pump"),
            make_part(sku="ALT-1", name="Dynamo Unit", description="Rebuilt dynamo"),
        ]
    )
    assert skus(signal, "fuel pump")[:1] == ["NEW-1"]
    assert skus(signal, "dynamo")[:1] == ["ALT-1"]
    # The replaced text no longer matches.
    assert "ALT-1" not in skus(signal, "alternator")


def test_upserting_an_inactive_part_removes_it(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal)
    radiator = next(p for p in PARTS if p.sku == "RAD-1")
    signal.upsert([dataclasses.replace(radiator, active=False)])
    assert "RAD-1" not in skus(signal, "radiator")


def test_retire_hides_at_once_with_its_history(make_signal: MakeSignal) -> None:
    signal = loaded(make_signal, history=True)
    assert skus(signal, "squeal when i stop")[:1] == ["BRK-1"]
    signal.retire(["BRK-1", "RAD-1"])
    assert "RAD-1" not in skus(signal, "radiator")
    assert "BRK-1" not in skus(signal, "brake pad set")
    assert "BRK-1" not in skus(signal, "squeal when i stop")
    # Back in the catalog, its history is searched again.
    signal.upsert([next(p for p in PARTS if p.sku == "BRK-1")])
    assert skus(signal, "squeal when i stop")[:1] == ["BRK-1"]


def test_history_finds_a_lay_text(make_signal: MakeSignal) -> None:
    with_history = loaded(make_signal, history=True)
    hits = search(with_history, "squeal when i stop at the back")
    assert hits[0].sku == "BRK-1"
    assert hits[0].features["bm25_history"] > 0
    assert hits[0].features["bm25_catalog"] == 0
    without = loaded(make_signal, history=False)
    assert "BRK-1" not in skus(without, "squeal when i stop at the back")
    assert all(h.features["bm25_history"] == 0 for h in search(without, "filter"))


def test_a_part_wins_on_its_best_evidence(make_signal: MakeSignal) -> None:
    # BAT-1 is named in the catalog ("battery") and described in the history ("cold mornings").
    signal = loaded(make_signal, history=True)
    hit = next(
        h for h in search(signal, "battery cranks slow on cold mornings") if h.sku == "BAT-1"
    )
    assert hit.features["bm25_catalog"] > 0
    assert hit.features["bm25_history"] > 0
    assert search(signal, "battery cranks slow on cold mornings")[0].sku == "BAT-1"
