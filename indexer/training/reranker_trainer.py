"""Training the reranker: a cross-encoder initialised from the base sentence encoder and
trained on history against hard negatives from the matcher's own candidate pool.

Each group is one labelled text with its part's `rerank_text` (label 1) and a few other
candidates the signals shortlist for it (label 0), so the model learns exactly the choices it
faces when serving. The loss is pointwise (binary cross-entropy), so a score means the same
across requests: the no-part model reads the best one (`max_rerank`). No group needs history
of the candidates, which is why the reranker also judges parts nobody has asked for yet.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from matcher.catalog import Part
from matcher.examples import Example
from matcher.reranker import rerank_query, rerank_text

# The candidates the reranker would score for a text, best first (Matcher.shortlist).
Propose = Callable[[Example], list[str]]


@dataclass(frozen=True)
class RerankerConfig:
    # Steps of `texts_per_step` groups. On 2 CPU cores a step of 8 groups (32 pairs) takes
    # about a second on the sample.
    steps: int = 200
    texts_per_step: int = 8
    negatives: int = 3
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    # Tokens per pair; a longer pair loses tokens from whichever side is longer (a chatty
    # message would otherwise leave no room for the candidate).
    max_length: int = 96
    # As for the encoder: half of MiniLM's weights, cheaper steps, a vocabulary that stays put.
    freeze_embeddings: bool = True
    seed: int = 0
    progress: bool = True


@dataclass(frozen=True)
class RerankGroup:
    query: str
    positive: str
    negatives: tuple[str, ...]


@dataclass(frozen=True)
class RerankerReport:
    groups: int
    steps: int
    seconds: float
    # Mean loss over the first and the last tenth of the steps.
    first_loss: float
    last_loss: float
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mine_groups(
    parts: Sequence[Part], anchors: Sequence[Example], propose: Propose, config: RerankerConfig
) -> list[RerankGroup]:
    """One group per anchor (a text naming an active part), for `steps x texts_per_step`
    anchors drawn without replacement while they last, then again."""
    catalog = {p.sku: p for p in parts if p.active}
    labelled = [e for e in anchors if e.sku in catalog]
    if not labelled:
        return []
    rng = random.Random(config.seed)
    wanted = config.steps * config.texts_per_step
    drawn: list[Example] = []
    while len(drawn) < wanted:
        drawn.extend(rng.sample(labelled, min(len(labelled), wanted - len(drawn))))
    groups = []
    for example in drawn:
        assert example.sku is not None
        positive = rerank_text(catalog[example.sku])
        others = [
            s for s in propose(example) if s in catalog and rerank_text(catalog[s]) != positive
        ]
        if not others:
            continue
        chosen = rng.sample(others, min(config.negatives, len(others)))
        groups.append(
            RerankGroup(
                rerank_query(example.text, example.vehicle),
                positive,
                tuple(rerank_text(catalog[s]) for s in chosen),
            )
        )
    return groups


def base_reranker(model_path: str, seed: int) -> tuple[Any, Any]:
    """The base encoder with a fresh one-label head, and its tokenizer. The head's weights are
    drawn at load, so the seed is set first: otherwise two runs of one config differ."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1)
    return model, AutoTokenizer.from_pretrained(model_path)


class RerankerTrainer:
    def __init__(self, config: RerankerConfig | None = None) -> None:
        self.config = config or RerankerConfig()

    def train(self, model: Any, tokenizer: Any, groups: Sequence[RerankGroup]) -> RerankerReport:
        """Trains `model` (a transformers sequence-classification model, one label) in place,
        on the GPU when there is one; the model is left on the CPU, where it is exported."""
        import torch
        from tqdm import tqdm

        config = self.config
        torch.manual_seed(config.seed)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(device)
        if config.freeze_embeddings:
            for parameter in model.base_model.embeddings.parameters():
                parameter.requires_grad = False
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            trainable, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        steps = (len(groups) + config.texts_per_step - 1) // config.texts_per_step
        warmup = max(1, round(config.warmup_ratio * steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        losses: list[float] = []
        started = time.perf_counter()
        model.train()
        for step in tqdm(range(steps), desc="reranker", disable=not config.progress):
            batch = groups[step * config.texts_per_step : (step + 1) * config.texts_per_step]
            queries, candidates, labels = [], [], []
            for group in batch:
                pairs = [(group.positive, 1.0), *((n, 0.0) for n in group.negatives)]
                for candidate, label in pairs:
                    queries.append(group.query)
                    candidates.append(candidate)
                    labels.append(label)
            inputs = tokenizer(
                queries,
                candidates,
                truncation="longest_first",
                max_length=config.max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            logits = model(**inputs).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor(labels, device=device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.item()))
        model.to("cpu").eval()
        tenth = max(1, len(losses) // 10)
        return RerankerReport(
            groups=len(groups),
            steps=steps,
            seconds=round(time.perf_counter() - started, 2),
            first_loss=round(sum(losses[:tenth]) / tenth, 4) if losses else 0.0,
            last_loss=round(sum(losses[-tenth:]) / tenth, 4) if losses else 0.0,
            config=asdict(config),
        )
