"""Fine-tuning the sentence encoder on labelled history.

`pairs` turns history into contrastive triplets with mined hard negatives; `trainer` runs
the optimisation. Neither knows about the registry or the matcher: `indexer.train` wires
them into the `partmatch train` pipeline.
"""

import os

# OpenMP threads that spin while waiting are fast on an idle machine and ruinous on a busy
# one: next to a serving process or another job on 2 cores, a fine-tuning step measured
# 4-8 s spinning against 0.4-1 s passive. Only effective before torch is first imported,
# which is why it is set here, and only as a default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
