"""fusion.json: what the trainer saves is, to the last decision, what the server loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.decision import DecisionPolicy
from matcher.fusion import FEATURES, NOMATCH_FEATURES, Calibration, LearnedFusion, Linear
from matcher.fusion_file import load_fusion, save_fusion
from matcher.signals.base import Hit


def fusion() -> LearnedFusion:
    rng = np.random.default_rng(7)
    return LearnedFusion(
        scorer=Linear(FEATURES, rng.normal(size=len(FEATURES)), -0.3),
        calibration=Calibration(np.asarray([0.0, 0.4, 1.0]), np.asarray([0.05, 0.5, 0.97])),
        nomatch=Linear(NOMATCH_FEATURES, rng.normal(size=len(NOMATCH_FEATURES)), 0.1),
    )


HITS = {
    "lexical": [Hit("A", 0.8, {"bm25_catalog": 0.8}), Hit("B", 0.4)],
    "fuzzy": [Hit("B", 0.9, {"fuzzy_wratio": 0.9}), Hit("C", 0.5)],
    "semantic": [Hit("C", 0.7, {"sem_catalog": 0.7, "sem_nopart": 0.2}), Hit("A", 0.6)],
}


def test_round_trip_keeps_ranking_confidences_and_decisions(tmp_path: Path) -> None:
    saved, policy = fusion(), DecisionPolicy(0.83, 0.0, 0.61)
    save_fusion(tmp_path / "fusion.json", saved, policy, target_precision=0.99)
    loaded, loaded_policy = load_fusion(tmp_path / "fusion.json")

    assert loaded_policy == policy
    before, after = saved.rank(HITS), loaded.rank(HITS)
    assert [(r.sku, r.confidence) for r in after.candidates] == [
        (r.sku, r.confidence) for r in before.candidates
    ]
    assert after.nomatch_probability == before.nomatch_probability is not None
    assert loaded_policy.decide(after) is policy.decide(before)


def test_a_fusion_trained_on_other_features_is_refused(tmp_path: Path) -> None:
    other = LearnedFusion(
        Linear(("lexical",), np.ones(1), 0.0), Calibration(np.zeros(0), np.zeros(0))
    )
    save_fusion(tmp_path / "fusion.json", other, DecisionPolicy(), target_precision=0.99)
    with pytest.raises(ValueError, match="fusion features differ"):
        load_fusion(tmp_path / "fusion.json")
