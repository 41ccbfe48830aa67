"""A layered mapping answers, at every step of a random series of changes, exactly as a dict
changed the same way would: the same items in the same order, length, lookups and misses."""

from __future__ import annotations

import random

import pytest

from matcher.catalog_view.layered import Layered


def apply(model: dict[int, str], updates: dict[int, str], removed: list[int]) -> None:
    for key in removed:
        model.pop(key, None)
    model.update(updates)


@pytest.mark.parametrize("seed", range(5))
def test_a_layered_mapping_changes_as_a_dict_does(seed: int) -> None:
    rng = random.Random(seed)
    base = {k: f"v{k}" for k in rng.sample(range(60), 30)}
    model, layered = dict(base), Layered.of(base)
    for step in range(80):
        updates = {rng.randrange(60): f"s{step}" for _ in range(rng.randrange(4))}
        removed = [rng.randrange(60) for _ in range(rng.randrange(4))]
        removed = [k for k in removed if k not in updates]
        apply(model, updates, removed)
        layered = layered.changed(updates, removed)
        assert list(layered.items()) == list(model.items())
        assert len(layered) == len(model)
        for key in range(60):
            assert (key in layered) == (key in model)
            assert layered.get(key) == model.get(key)
            assert layered.get(key, "none") == model.get(key, "none")
        missing = next(k for k in range(60) if k not in model)
        with pytest.raises(KeyError):
            layered[missing]
    assert base == {k: f"v{k}" for k in base}  # the base is shared, never written
