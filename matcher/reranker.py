"""The reranker: a cross-encoder that reads the request and one candidate's catalog text
together and scores how likely that part is the one asked for.

The first-stage signals judge a text against the catalog one side at a time (words, vectors,
history); the cross-encoder attends across both texts, so it can tell "rear" from "front" or a
tow rope from a tow bar where they share words, and it needs no history of the part: it was
trained on (text, catalog text) pairs of other parts. Its score is a fusion feature like any
signal's, over a shortlist of the candidates the signals propose (`shortlist`).

A reranker directory (indexer/reranker_export.py writes it, inside a model version):
    model-int8.onnx     the cross-encoder, pair token ids in, one logit per pair out
    tokenizer.json      its (fast) tokenizer
    reranker.json       maximum pair length, inputs
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from matcher.catalog import Part
from matcher.onnx_encoder import ExportMeta, cpu_session, token_feeds
from matcher.signals.base import Hit

RERANK = "rerank"
META_FILE = "reranker.json"
MODEL_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Candidates some signal ranks this high are reranked: the reranker's cost grows with the
# shortlist, and a part no signal puts in its first few is rarely the answer.
PER_SIGNAL = 3
# At most this many pairs per request.
DEPTH = 12


def rerank_text(part: Part) -> str:
    """The candidate's side of a pair, in training and serving alike: its name and aliases,
    where its type, position and vehicle are said; descriptions would only add length."""
    return " | ".join([part.name, *part.aliases])


def rerank_query(text: str, vehicle: str = "") -> str:
    """The request's side of a pair: its text, and the vehicle its context names."""
    return f"{text} | {vehicle}" if vehicle else text


def shortlist(hits: Mapping[str, Sequence[Hit]], depth: int = DEPTH) -> list[str]:
    """The candidates to rerank: those some signal ranks in its first PER_SIGNAL, taken
    rank by rank across signals (so every signal's best comes first), at most `depth`."""
    chosen: dict[str, None] = {}
    for rank in range(PER_SIGNAL):
        for signal_hits in hits.values():
            if rank < len(signal_hits):
                chosen.setdefault(signal_hits[rank].sku)
    return list(chosen)[:depth]


@dataclass(frozen=True)
class RerankerInfo(ExportMeta):
    FILE: ClassVar[str] = META_FILE
    max_length: int
    pad_id: int
    pad_token: str


def has_reranker(directory: Path) -> bool:
    return (directory / META_FILE).is_file()


class Reranker:
    """P(the candidate is the part the text asks for), per (text, candidate text) pair."""

    def __init__(self, directory: Path, *, threads: int = 1) -> None:
        from tokenizers import Tokenizer

        self.directory = directory
        self.info = RerankerInfo.read(directory)
        self._session = cpu_session(directory / MODEL_FILE, threads)
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(self.info.max_length, strategy="longest_first")
        self._tokenizer.enable_padding(pad_id=self.info.pad_id, pad_token=self.info.pad_token)

    def score(self, text: str, candidates: Sequence[str]) -> np.ndarray:
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch([(text, c) for c in candidates])
        feeds = token_feeds(encodings)
        logits = self._session.run(None, {k: feeds[k] for k in self.info.inputs})[0]
        scores: np.ndarray = 1.0 / (1.0 + np.exp(-logits.reshape(-1).astype(np.float64)))
        return scores

    def hits(self, text: str, candidates: Mapping[str, str]) -> list[Hit]:
        """The reranker's hits over `candidates` (SKU -> rerank_text), best first."""
        skus = list(candidates)
        scores = self.score(text, [candidates[s] for s in skus])
        order = sorted(range(len(skus)), key=lambda i: (-scores[i], skus[i]))
        return [Hit(skus[i], float(scores[i])) for i in order]
