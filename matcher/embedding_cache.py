"""Vectors of catalog and history texts, saved by the indexer so the server starts fast.

One file per model fingerprint: vectors made by one model are never read for another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def cache_path(state_dir: Path, fingerprint: str) -> Path:
    return state_dir / "embeddings" / f"{fingerprint}.npz"


def read_cache(state_dir: Path, fingerprint: str) -> dict[str, np.ndarray]:
    path = cache_path(state_dir, fingerprint)
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return dict(zip(data["texts"].tolist(), data["vectors"], strict=True))


def write_cache(state_dir: Path, fingerprint: str, vectors: dict[str, np.ndarray]) -> Path:
    path = cache_path(state_dir, fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = list(vectors)
    matrix = np.stack([vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, texts=np.asarray(texts, dtype=str), vectors=matrix)
    tmp.replace(path)  # atomic: a reader sees the old file or the new one, never half of one
    return path
