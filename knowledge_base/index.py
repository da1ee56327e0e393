"""Building and publishing versions of the search index.

A version is a folder `versions/<n>/` with the chunks, their vectors, a faiss index, and a
manifest (model, dimension, chunk ids, content hashes, documents' metadata). Building reuses
the vectors of every chunk whose content hash and model are unchanged, so editing one document
re-embeds only that document's chunks. A version is published by atomically replacing the
`CURRENT` pointer; a build that fails leaves the previous version serving.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge_base.chunking import Chunk, chunk_document
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import Document
from knowledge_base.embedding import Embedder

HNSW_THRESHOLD = 20_000
# Bumped whenever the layout of a version folder, or what parsing and chunking produce,
# changes; versions of an older format are rebuilt by setup (`kb seed`).
INDEX_FORMAT = 6
KEEP_VERSIONS = 5


@dataclass(frozen=True)
class BuildReport:
    version: int
    documents: int
    chunks: int
    embedded: int
    reused: int
    seconds: float


def is_servable(settings: KnowledgeBaseSettings, model: str) -> bool:
    """True when CURRENT points at a complete version of this format, built with `model`."""
    version = current_version(settings)
    if version is None:
        return False
    try:
        manifest = json.loads((version_dir(settings, version) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("format") == INDEX_FORMAT and manifest.get("model") == model


def current_version(settings: KnowledgeBaseSettings) -> int | None:
    try:
        return int(settings.current_pointer.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def version_dir(settings: KnowledgeBaseSettings, version: int) -> Path:
    return settings.versions_dir / f"{version:06d}"


def build_faiss_index(vectors: np.ndarray):
    """Exact inner-product search for small collections, HNSW above HNSW_THRESHOLD chunks."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 96
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _previous_vectors(settings: KnowledgeBaseSettings, model: str) -> dict[str, np.ndarray]:
    version = current_version(settings)
    if version is None:
        return {}
    folder = version_dir(settings, version)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest["model"] != model:
            return {}
        vectors = np.load(folder / "vectors.npy")
    except (FileNotFoundError, KeyError, ValueError):
        return {}
    return dict(zip(manifest["content_hashes"], vectors, strict=True))


def build_version(
    settings: KnowledgeBaseSettings, documents: list[Document], embedder: Embedder
) -> BuildReport:
    """Chunk, embed (reusing unchanged vectors), index and publish a new version."""
    started = time.perf_counter()
    chunks: list[Chunk] = [
        chunk
        for document in documents
        for chunk in chunk_document(document, settings.chunk_chars, settings.overlap_sentences)
    ]
    # Grouped by language, so search can take the best candidates of each language separately.
    chunks.sort(key=lambda chunk: chunk.language)
    known = _previous_vectors(settings, embedder.name)
    missing = [c for c in chunks if c.content_hash not in known]
    fresh = embedder.encode([c.embedding_text for c in missing])
    known.update({c.content_hash: v for c, v in zip(missing, fresh, strict=True)})
    vectors = (
        np.vstack([known[c.content_hash] for c in chunks]).astype(np.float32)
        if chunks else np.zeros((0, embedder.dimension), np.float32)
    )

    settings.versions_dir.mkdir(parents=True, exist_ok=True)
    version = (current_version(settings) or 0) + 1
    while version_dir(settings, version).exists():
        version += 1
    staging = settings.versions_dir / f".building-{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _write_version(staging, chunks, vectors, documents, embedder)
        staging.rename(version_dir(settings, version))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(settings, version)
    _prune(settings)
    return BuildReport(version, len(documents), len(chunks), len(missing),
                       len(chunks) - len(missing), time.perf_counter() - started)


def _write_version(folder: Path, chunks: list[Chunk], vectors: np.ndarray,
                   documents: list[Document], embedder: Embedder) -> None:
    import faiss

    np.save(folder / "vectors.npy", vectors)
    faiss.write_index(build_faiss_index(vectors), str(folder / "index.faiss"))
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as out:
        for chunk in chunks:
            row = asdict(chunk)
            row["headings"] = list(chunk.headings)
            row["aspects"] = list(chunk.aspects)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    ranges: dict[str, tuple[int, int]] = {}
    for position, chunk in enumerate(chunks):
        start, _ = ranges.get(chunk.language, (position, position))
        ranges[chunk.language] = (start, position + 1)
    manifest = {
        "format": INDEX_FORMAT,
        "model": embedder.name,
        "language_ranges": ranges,
        "dimension": embedder.dimension,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "chunk_ids": [c.id for c in chunks],
        "content_hashes": [c.content_hash for c in chunks],
        "documents": {d.id: d.metadata.to_mapping() for d in documents},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))


def publish(settings: KnowledgeBaseSettings, version: int) -> None:
    """Point CURRENT at `version` atomically (also used to roll back)."""
    if not (version_dir(settings, version) / "manifest.json").is_file():
        raise ValueError(f"index version {version} does not exist")
    temporary = settings.current_pointer.with_suffix(f".tmp{os.getpid()}")
    temporary.write_text(str(version))
    os.replace(temporary, settings.current_pointer)


def _prune(settings: KnowledgeBaseSettings) -> None:
    versions = sorted(p for p in settings.versions_dir.iterdir() if p.name.isdigit())
    for old in versions[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
