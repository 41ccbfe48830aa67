"""fusion.json: the learned fusion and the decision thresholds fitted with it, written by the
trainer and read by the server. The format is defined here, on both sides.

    {"fusion": {"kind": "learned", "scorer": ..., "calibration": ..., "nomatch": ... | null},
     "policy": {"accept_threshold": ..., "nomatch_threshold": ..., "nomatch_cut": ...},
     "target_precision": ...}
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from matcher.decision import DecisionPolicy
from matcher.fusion import Calibration, LearnedFusion, Linear


def fusion_document(
    fusion: LearnedFusion, policy: DecisionPolicy, target_precision: float
) -> dict[str, Any]:
    return {
        "fusion": fusion.to_json(),
        "policy": dataclasses.asdict(policy),
        "target_precision": target_precision,
    }


def save_fusion(
    path: Path, fusion: LearnedFusion, policy: DecisionPolicy, target_precision: float
) -> None:
    document = fusion_document(fusion, policy, target_precision)
    path.write_text(json.dumps(document), encoding="utf-8")


def load_fusion(path: Path) -> tuple[LearnedFusion, DecisionPolicy]:
    document = json.loads(path.read_text(encoding="utf-8"))
    raw = document["fusion"]
    try:
        fusion = LearnedFusion(
            scorer=Linear.from_json(raw["scorer"]),
            calibration=Calibration.from_json(raw["calibration"]),
            nomatch=Linear.from_json(raw["nomatch"]) if raw["nomatch"] else None,
        )
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}; retrain") from exc
    return fusion, DecisionPolicy(**document["policy"])
