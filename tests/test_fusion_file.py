"""fusion.json: what the trainer saves is, to the last decision, what the server loads."""

from __future__ import annotations

import dataclasses
import json
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


def test_a_fusion_trained_on_features_this_version_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    path.write_text(
        json.dumps(
            {
                "fusion": {
                    "kind": "learned",
                    "scorer": {"names": ["lexical", "telepathy"], "coef": [1, 1], "intercept": 0},
                    "calibration": {"x": [], "y": []},
                    "nomatch": None,
                },
                "policy": dataclasses.asdict(DecisionPolicy()),
                "target_precision": 0.99,
            }
        )
    )
    with pytest.raises(ValueError, match="telepathy"):
        load_fusion(path)


def test_a_fusion_fitted_before_a_feature_was_added_reads_only_its_own(tmp_path: Path) -> None:
    # As a model trained before the reranker existed: its scorer knows fewer features.
    older = LearnedFusion(
        Linear(("lexical", "semantic"), np.asarray([1.0, 3.0]), -1.0),
        Calibration(np.zeros(0), np.zeros(0)),
    )
    save_fusion(tmp_path / "fusion.json", older, DecisionPolicy(), target_precision=0.99)
    loaded, _ = load_fusion(tmp_path / "fusion.json")
    hits = {
        "lexical": [Hit("A", 0.9), Hit("B", 0.2)],
        "semantic": [Hit("B", 0.8), Hit("A", 0.1)],
        "rerank": [Hit("A", 1.0), Hit("B", 0.0)],
    }
    ranked = loaded.rank(hits).candidates
    # Read by name, 0.2 + 3 x 0.8 beats 0.9 + 3 x 0.1; read by position (lexical, fuzzy), A
    # would win, and so it would if the reranker's column were read.
    assert [r.sku for r in ranked] == ["B", "A"]
