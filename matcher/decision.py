"""The decision for a ranked answer: use it, ask a person, or "this names no part"."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from matcher.ranking import Ranking, held_for_review


class Decision(enum.Enum):
    AUTO_ACCEPT = "AUTO_ACCEPT"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    NO_MATCH = "NO_MATCH"


@dataclass(frozen=True)
class DecisionPolicy:
    """Thresholds are chosen on validation data by the trainer (indexer.fusion_training);
    these defaults serve only the untrained base model."""

    # Top confidence at or above which the answer is used without a person.
    accept_threshold: float = 0.9
    # Top confidence below which the text is taken to name no part.
    nomatch_threshold: float = 0.2
    # Probability that the text names no part at or above which the answer is NO_MATCH.
    nomatch_cut: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.nomatch_threshold <= self.accept_threshold <= 1.0:
            raise ValueError(
                "decision thresholds must satisfy 0 <= nomatch_threshold <= accept_threshold <= 1, "
                f"got nomatch={self.nomatch_threshold}, accept={self.accept_threshold}"
            )

    def decide(self, ranking: Ranking) -> Decision:
        if not ranking.candidates:
            return self.decide_top(None, ranking.nomatch_probability)
        best = ranking.candidates[0]
        held = held_for_review(best.features)
        return self.decide_top(best.confidence, ranking.nomatch_probability, held)

    def decide_top(
        self, top: float | None, nomatch_probability: float | None = None, held: bool = False
    ) -> Decision:
        """The decision for a top confidence (None: nothing ranked), P(names no part), and
        whether the top answer is held for review whatever its confidence."""
        if top is None:
            return Decision.NO_MATCH
        if nomatch_probability is not None and nomatch_probability >= self.nomatch_cut:
            return Decision.NO_MATCH
        if top < self.nomatch_threshold:
            return Decision.NO_MATCH
        if top >= self.accept_threshold and not held:
            return Decision.AUTO_ACCEPT
        return Decision.NEEDS_REVIEW
