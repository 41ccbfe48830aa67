"""Fine-tuning the sentence encoder on labelled history.

`pairs` turns history into contrastive triplets with mined hard negatives; `trainer` runs
the optimisation. Neither knows about the registry or the matcher: `indexer.train` wires
them into the `partmatch train` pipeline.
"""

from indexer.training.pairs import PairConfig, Triplet, mine_triplets
from indexer.training.trainer import EncoderTrainer, TrainerConfig, TrainReport

__all__ = [
    "EncoderTrainer",
    "PairConfig",
    "TrainReport",
    "TrainerConfig",
    "Triplet",
    "mine_triplets",
]
