"""What customers state — vehicle, years, side, position, size — read from the text and the
vehicle context, compared with each candidate, and honoured by the ranking and the decision."""

from __future__ import annotations

import pytest

from matcher.app import build_matcher
from matcher.attributes import AttributeVocabulary, learn_aliases, stated
from matcher.attributes.measures import measures
from matcher.attributes.variants import undecided
from matcher.attributes.vocabulary import abbreviation
from matcher.catalog import Part, make_part
from matcher.config import Settings
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example

GOLF = {
    "make": "Volkswagen",
    "model": "Golf",
    "years": "2013-2020",
    "fits": "Volkswagen Golf Mk7 (2013-2020)",
}
POLO = {
    "make": "Volkswagen",
    "model": "Polo",
    "years": "2010-2017",
    "fits": "Volkswagen Polo 6R (2010-2017)",
}
COROLLA = {
    "make": "Toyota",
    "model": "Corolla",
    "years": "2014-2019",
    "fits": "Toyota Corolla E170 (2014-2019)",
}


def _part(sku: str, name: str, **attributes: str) -> Part:
    return make_part(sku=sku, name=name, attributes={"category": "test", **attributes})


CATALOG = [
    _part("MIR-GL", "Door Mirror - Left - VW Golf Mk7", side="left", **GOLF),
    _part("MIR-GR", "Door Mirror - Right - VW Golf Mk7", side="right", **GOLF),
    _part("TL-CL", "Tail Light - Left - Toyota Corolla E170", side="left", **COROLLA),
    _part("PAD-GF", "Front Brake Pad Set - VW Golf Mk7", position="front", **GOLF),
    _part("PAD-GR", "Rear Brake Pad Set - VW Golf Mk7", position="rear", **GOLF),
    _part("PAD-PF", "Front Brake Pad Set - VW Polo 6R", position="front", **POLO),
    _part("PAD-CF", "Front Brake Pad Set - Toyota Corolla E170", position="front", **COROLLA),
    _part("OIL-1", "Engine Oil 5W-30 1L", size="5W-30 1L"),
    _part("OIL-5", "Engine Oil 5W-30 5L", size="5W-30 5L"),
    _part("WIP-24", 'Wiper Blade 24"', size='24"'),
    _part("WIP-18", 'Wiper Blade 18"', size='18"'),
]


@pytest.fixture
def vocabulary() -> AttributeVocabulary:
    return AttributeVocabulary.build(CATALOG)


@pytest.fixture
def matcher(settings: Settings, encoder: Encoder) -> Matcher:
    matcher = build_matcher(settings, CATALOG, [], encoder=encoder)
    # Accept anything: only an attribute conflict can keep an answer from AUTO_ACCEPT.
    matcher.policy = DecisionPolicy(accept_threshold=0.0, nomatch_threshold=0.0)
    return matcher


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("taillight rigth corolla", {"side": {"right"}, "model": {"Corolla"}}),
        (
            "mirror lh golf mk7",
            {"side": {"left"}, "model": {"Golf"}, "fits": {"Volkswagen Golf Mk7 (2013-2020)"}},
        ),
        ("pads for my corola", {"model": {"Corolla"}}),
        # A letter typed twice, in a value too short for a one-edit typo ("polo").
        ("front pads pollo", {"position": {"front"}, "model": {"Polo"}}),
        ("golff front pads", {"position": {"front"}, "model": {"Golf"}}),
        # Written without vowels.
        ("frnt pads crl", {"position": {"front"}, "model": {"Corolla"}}),
        ("mirror rght", {"side": {"right"}}),
        ("back pads vw", {"position": {"rear"}}),
        ("light bulb", {}),
    ],
)
def test_stated_values_are_read_with_synonyms_aliases_and_typos(
    vocabulary: AttributeVocabulary, text: str, expected: dict[str, set[str]]
) -> None:
    assert {a: set(v) for a, v in stated(vocabulary, text).values.items()} == expected


def test_years_are_read_as_four_digits_short_forms_and_before_a_vehicle(
    vocabulary: AttributeVocabulary,
) -> None:
    assert stated(vocabulary, "pads for a 2016 golf").years == {2016}
    assert stated(vocabulary, "pads 14 golf").years == {2014}
    assert stated(vocabulary, "golf '15 pads").years == {2015}
    assert stated(vocabulary, "4 pads").years == frozenset()
    assert stated(vocabulary, "16 front pads").years == frozenset()  # 16 pads, not 2016


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5w30 oil 5 litres", {"grade": "5w30", "volume": "5000"}),
        ("0W-20 5ltr", {"grade": "0w20", "volume": "5000"}),
        ("500 ml brake fluid", {"volume": "500"}),
        ('wipers 24"', {"length": "609.6"}),
        ("snow chains 205/55 r16", {"tyre": "205/55r16"}),
        ("drain plug M14 x 1.5", {"thread": "m14x1.5"}),
    ],
)
def test_sizes_are_read_however_they_are_typed(text: str, expected: dict[str, str]) -> None:
    assert measures(text) == expected


def test_history_teaches_customers_own_names_for_values() -> None:
    history = [
        Example(f"{kind} for my vw", sku)
        for kind, sku in (
            ("mirror", "MIR-GL"),
            ("pads", "PAD-GF"),
            ("rear pads", "PAD-GR"),
            ("pads", "PAD-PF"),
        )
    ]
    learned = learn_aliases(history, CATALOG)
    assert learned["vw"] == (("make", "Volkswagen"),)
    # "pads" comes with Golf, Polo and Corolla parts: it names a kind of part, not a value.
    assert "pads" not in learned


def test_an_inflected_alias_states_its_value() -> None:
    vocabulary = AttributeVocabulary.build(CATALOG, learned={"driver": (("side", "left"),)})
    assert stated(vocabulary, "mirror drivers golf").values == {
        "side": {"left"},
        "model": {"Golf"},
    }


def test_an_english_word_is_not_read_as_a_typo_of_a_value() -> None:
    camry = {"make": "Toyota", "model": "Camry", "years": "2012-2017"}
    vocabulary = AttributeVocabulary.build(
        [*CATALOG, _part("PAD-TF", "Front Brake Pad Set - Toyota Camry", **camry)]
    )
    assert stated(vocabulary, "do you carry golf pads").values == {"model": {"Golf"}}
    assert stated(vocabulary, "pads for a camery").values == {"model": {"Camry"}}


def test_an_abbreviation_two_values_share_states_neither() -> None:
    assert abbreviation("front") == "frnt"
    assert abbreviation("bottom") == "btm"
    twins = [
        _part("A", "Pads - Sharan", make="Volkswagen", model="Sharan"),
        _part("B", "Pads - Shoren", make="Volkswagen", model="Shoren"),
        _part("C", "Pads - Sharan", make="Volkswagen", model="Sharan"),
    ]
    vocabulary = AttributeVocabulary.build(twins)
    assert stated(vocabulary, "sharan pads").values == {"model": {"Sharan"}}
    assert stated(vocabulary, "shrn pads").values == {}


def test_a_side_conflict_loses_and_is_never_auto_accepted(matcher: Matcher) -> None:
    right = matcher.match("door mirror right golf mk7", top_k=5)
    assert right.candidates[0].sku == "MIR-GR"
    assert right.decision is Decision.AUTO_ACCEPT
    left = next(c for c in right.candidates if c.sku == "MIR-GL")
    assert any(m.attribute == "side" and not m.agrees for m in left.marks)
    right_mirror = next(c for c in right.candidates if c.sku == "MIR-GR")
    assert right.candidates.index(left) > 0 and left.confidence <= right_mirror.confidence


def test_an_answer_the_request_does_not_tell_from_another_is_held(matcher: Matcher) -> None:
    # The Golf has a left and a right mirror, and the request names no side.
    unsaid = matcher.match("door mirror golf mk7", top_k=2)
    assert {c.sku for c in unsaid.candidates} == {"MIR-GL", "MIR-GR"}
    assert unsaid.candidates[0].features["undecided"] == 1.0
    assert unsaid.decision is Decision.NEEDS_REVIEW
    said = matcher.match("door mirror left golf mk7", top_k=1)
    assert (said.candidates[0].sku, said.decision) == ("MIR-GL", Decision.AUTO_ACCEPT)


def test_parts_are_told_apart_by_the_values_their_names_spell() -> None:
    # The Golf's front pads in two brands.
    brands = [
        _part(sku, "Front Brake Pad Set - VW Golf Mk7", position="front", brand=brand, **GOLF)
        for sku, brand in (("PAD-GF", "Apex"), ("PAD-GF2", "Veloce"))
    ]
    of = AttributeVocabulary.build([*(p for p in CATALOG if p.sku != "PAD-GF"), *brands]).parts
    # Two brands of one part are alike for the customer; front and rear pads are not.
    assert undecided({s: of[s] for s in ("PAD-GF", "PAD-GF2")}, set()) == set()
    pads = {s: of[s] for s in ("PAD-GF", "PAD-GF2", "PAD-GR")}
    assert undecided(pads, set()) == {"PAD-GF", "PAD-GF2", "PAD-GR"}
    # Rear pads the customer ruled out ("front pads") leave the front ones usable.
    assert undecided(pads, {"PAD-GR"}) == {"PAD-GR"}


def test_a_typed_part_number_tells_its_part_apart(settings: Settings, encoder: Encoder) -> None:
    parts = [
        _part(
            "MIR-L",
            "Door Mirror - Left - VW Golf Mk7",
            side="left",
            part_number="5G0857507",
            mpn="GM7701",
        ),
        _part(
            "MIR-R",
            "Door Mirror - Right - VW Golf Mk7",
            side="right",
            part_number="5G0857508",
            mpn="GM7701",
        ),
    ]
    matcher = build_matcher(settings, parts, [], encoder=encoder)
    matcher.policy = DecisionPolicy(accept_threshold=0.0, nomatch_threshold=0.0)
    assert matcher.match("door mirror golf", top_k=1).decision is Decision.NEEDS_REVIEW
    typed = matcher.match("door mirror golf 5G0 857 507", top_k=1)
    assert (typed.candidates[0].sku, typed.decision) == ("MIR-L", Decision.AUTO_ACCEPT)
    # A number both parts carry (a model code, "f150") tells neither apart.
    shared = matcher.match("door mirror golf GM7701", top_k=1)
    assert shared.decision is Decision.NEEDS_REVIEW


def test_a_year_outside_the_parts_range_holds_the_answer_for_review(matcher: Matcher) -> None:
    result = matcher.match("front brake pads polo 2019", top_k=1)
    assert result.candidates[0].sku == "PAD-PF"
    assert result.decision is Decision.NEEDS_REVIEW
    years = next(m for m in result.candidates[0].marks if m.attribute == "years")
    assert (years.stated, years.value, years.agrees) == ("2019", "2010-2017", False)


def test_the_vehicle_context_is_honoured(matcher: Matcher) -> None:
    for vehicle, sku in (
        ("2016 VW Golf Mk7 1.4 TSI", "PAD-GF"),
        ("2012 Polo 1.2", "PAD-PF"),
        ("Toyota Corolla 2017", "PAD-CF"),
    ):
        result = matcher.match("front brake pads", top_k=1, vehicle=vehicle)
        assert result.candidates[0].sku == sku, vehicle
    # What the text says wins over the context.
    result = matcher.match("front brake pads for the polo", top_k=1, vehicle="2016 Golf Mk7")
    assert result.candidates[0].sku == "PAD-PF"


def test_a_stated_size_picks_the_variant(matcher: Matcher) -> None:
    assert matcher.match("5w30 oil 5 litres", top_k=1).candidates[0].sku == "OIL-5"
    assert matcher.match("engine oil 5w-30 1 ltr", top_k=1).candidates[0].sku == "OIL-1"
    assert matcher.match("wiper blade 610mm", top_k=1).candidates[0].sku == "WIP-24"


def test_a_spaced_part_number_is_found_and_a_near_miss_is_not_auto_accepted(
    settings: Settings, encoder: Encoder
) -> None:
    parts = [
        make_part(sku="HL-1", name="Headlight", attributes={"part_number": "1K0941005AC"}),
        make_part(sku="HL-2", name="Headlight", attributes={"part_number": "5G1941005B"}),
    ]
    matcher = build_matcher(settings, parts, [], encoder=encoder)
    matcher.policy = DecisionPolicy(accept_threshold=0.0, nomatch_threshold=0.0)
    exact = matcher.match("need 1k0 941 005 ac", top_k=1)
    assert (exact.candidates[0].sku, exact.decision) == ("HL-1", Decision.AUTO_ACCEPT)
    near = matcher.match("need 1k0 941 006 ac", top_k=1)
    assert near.candidates[0].sku == "HL-1"
    assert near.decision is Decision.NEEDS_REVIEW
