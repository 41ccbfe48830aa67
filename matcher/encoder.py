"""Sentence embeddings: one model, loaded from a local path, with a cache of known texts.

Catalog and history texts are encoded once (their vectors can be preloaded from an artefact
written by the indexer); a small LRU keeps query vectors so that several signals reading the
same query pay for one encode.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

QUERY_CACHE_SIZE = 4096


class Encoder:
    def __init__(self, model_path: str | Path, batch_size: int = 64) -> None:
        # Imported here: importing torch costs seconds, and many commands never encode.
        from sentence_transformers import SentenceTransformer

        self.model_path = str(model_path)
        self.batch_size = batch_size
        self.model = SentenceTransformer(self.model_path, device="cpu")
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self._known: dict[str, np.ndarray] = {}
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        """Identifies the weights, so cached vectors are never used with another model."""
        return model_fingerprint(self.model_path)

    def preload(self, vectors: Mapping[str, np.ndarray]) -> None:
        self._known.update(vectors)

    def known_vectors(self) -> dict[str, np.ndarray]:
        return dict(self._known)

    def encode(
        self, texts: Sequence[str], progress: bool = False, remember: bool = True
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        missing = [
            t for t in dict.fromkeys(texts) if t not in self._known and t not in self._recent
        ]
        if missing:
            vectors = self.model.encode(
                list(missing),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            ).astype(np.float32)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    if remember:
                        self._known[text] = vector
                    else:
                        self._recent[text] = vector
                while len(self._recent) > QUERY_CACHE_SIZE:
                    self._recent.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._lookup(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text], remember=False)[0]

    def forget_queries(self) -> None:
        """Drop the cached query vectors (catalog and history vectors stay): the next query
        pays for its encode, as a cold one would. Evaluations call it between systems."""
        with self._lock:
            self._recent.clear()

    def _lookup(self, text: str) -> np.ndarray:
        vector = self._known.get(text)
        if vector is None:
            vector = self._recent[text]
        return vector


def model_fingerprint(model_path: str | Path) -> str:
    """A short hash of the model's weight files' names, sizes and modification times."""
    root = Path(model_path)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".safetensors", ".bin", ".json", ".txt"}:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]
