"""The history, valid and test splits, and writing the whole sample data set to a folder.

History is drawn from a skewed popularity without the cold parts; valid and test add held-out
phrasings and cold parts, and every text is kept clear of near-copies of the earlier splits.
"""

from __future__ import annotations

import itertools
import pathlib
import random

from indexer.dataset import write_examples
from indexer.sample_data.catalog import DEFAULT_SEED, GeneratedPart, catalog_jsonl, generate_parts
from indexer.sample_data.novelty import SeenTexts
from indexer.sample_data.texts import TextGen

DEFAULT_HISTORY_SIZE = 6000
VALID_SIZE = 800
TEST_SIZE = 800
NO_PART_SHARE = 0.05
# Share of valid/test texts drawn from parts that never appear in history, so
# that matching against catalog text (not just past texts) is measured.
COLD_TEST_SHARE = 0.10
COLD_PART_SHARE = 0.05
MAX_ATTEMPTS = 400
# The sku of a text that names no part: empty, as the data format has it.
NO_PART_LABEL = ""

CATALOG_FILE = "catalog.jsonl"
HISTORY_FILE = "history.csv"
VALID_FILE = "valid.csv"
TEST_FILE = "test.csv"


def _popularity(parts: list[GeneratedPart], seed: int) -> tuple[list[float], list[int]]:
    """Zipf-like weights over a seeded ranking, and the indices of cold parts."""
    rng = random.Random(f"partmatch-popularity-{seed}")
    order = list(range(len(parts)))
    rng.shuffle(order)
    weights = [0.0] * len(parts)
    for rank, idx in enumerate(order, start=1):
        # The shift keeps the head from swamping everything; the tail still thins out.
        weights[idx] = parts[idx].kind.demand * (rank + 8) ** -1.0
    n_cold = max(1, round(COLD_PART_SHARE * len(parts)))
    # Cold parts play newly listed stock, so they come from outside the popular head.
    cold = sorted(rng.sample(order[len(order) // 5 :], n_cold))
    return weights, cold


def _no_part_slots(rng: random.Random, n: int) -> set[int]:
    return set(rng.sample(range(n), round(NO_PART_SHARE * n)))


def _history(
    parts: list[GeneratedPart], weights: list[float], cold: list[int], seed: int, size: int
) -> list[tuple[str, str]]:
    rng = random.Random(f"partmatch-history-{seed}")
    gen = TextGen(rng, heldout=False)
    cold_set = set(cold)
    hist_weights = [0.0 if i in cold_set else w for i, w in enumerate(weights)]
    index = list(range(len(parts)))
    # Accumulated once: `choices` would otherwise add up every part's weight for every text.
    cumulative = list(itertools.accumulate(hist_weights))
    no_part = _no_part_slots(rng, size)
    rows: list[tuple[str, str]] = []
    for slot in range(size):
        if slot in no_part:
            rows.append((gen.no_part_text(), NO_PART_LABEL))
        else:
            part = parts[rng.choices(index, cum_weights=cumulative)[0]]
            rows.append((gen.part_text(part), part.sku))
    return rows


def _eval_split(
    parts: list[GeneratedPart],
    weights: list[float],
    cold: list[int],
    stream: str,
    size: int,
    seen: SeenTexts,
) -> list[tuple[str, str]]:
    """Draw like history but with held-out options, cold parts, and no near-copies of ``seen``."""
    rng = random.Random(stream)
    gen = TextGen(rng, heldout=True)
    index = list(range(len(parts)))
    cumulative = list(itertools.accumulate(weights))
    no_part = _no_part_slots(rng, size)
    own = SeenTexts()
    rows: list[tuple[str, str]] = []

    def draw() -> GeneratedPart:
        if rng.random() < COLD_TEST_SHARE:
            return parts[rng.choice(cold)]
        return parts[rng.choices(index, cum_weights=cumulative)[0]]

    for slot in range(size):
        part = None if slot in no_part else draw()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if part is None:
                text, label = gen.no_part_text(), NO_PART_LABEL
            else:
                text, label = gen.part_text(part), part.sku
            if not seen.near(text, label) and not own.near(text, label):
                break
            if part is not None and attempt % 20 == 0:
                # A popular part whose phrasings history has used up must not stall the loop.
                part = draw()
        else:
            raise RuntimeError(f"could not make a novel text for slot {slot} of {stream}")
        own.add(text, label)
        rows.append((text, label))
    for text, label in rows:
        seen.add(text, label)
    return rows


def write_sample_dataset(
    out_dir: pathlib.Path,
    seed: int = DEFAULT_SEED,
    history_size: int = DEFAULT_HISTORY_SIZE,
    part_count: int | None = None,
) -> dict[str, int]:
    """Write catalog.jsonl, history.csv, valid.csv and test.csv; return row counts per file.

    `part_count`: about how many parts the catalog has (None: the sample's own, about 300).
    """
    generated = generate_parts(seed, part_count)
    parts = [p for p, _ in generated]
    records = [r for _, r in generated]
    weights, cold = _popularity(parts, seed)
    history = _history(parts, weights, cold, seed, history_size)
    seen = SeenTexts()
    for text, label in history:
        seen.add(text, label)
    # valid and test use disjoint seed streams; test is also kept clear of valid.
    valid = _eval_split(parts, weights, cold, f"partmatch-valid-{seed}", VALID_SIZE, seen)
    test = _eval_split(parts, weights, cold, f"partmatch-test-{seed}", TEST_SIZE, seen)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CATALOG_FILE).write_text(catalog_jsonl(records), encoding="utf-8", newline="")
    write_examples(out_dir / HISTORY_FILE, history)
    write_examples(out_dir / VALID_FILE, valid)
    write_examples(out_dir / TEST_FILE, test)
    return {
        CATALOG_FILE: len(records),
        HISTORY_FILE: len(history),
        VALID_FILE: len(valid),
        TEST_FILE: len(test),
    }
