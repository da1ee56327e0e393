"""Knowledge-base operations shared by the staff CLI and the staff web page.

Every change validates first, then stores, then publishes a new index version that re-embeds
only what changed. The running action server notices the new version by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge_base.config import SAMPLE_DIR, KnowledgeBaseSettings
from knowledge_base.documents import Document
from knowledge_base.embedding import Embedder, load_embedder
from knowledge_base.faq import read_faq
from knowledge_base.index import BuildReport, build_version, is_servable
from knowledge_base.parsers import SUPPORTED_SUFFIXES, parse_bytes, read_file
from knowledge_base.store import DocumentStore, StoredDocument


@dataclass
class KnowledgeBase:
    settings: KnowledgeBaseSettings
    embedder: Embedder | None = None

    @property
    def store(self) -> DocumentStore:
        return DocumentStore(self.settings.documents_dir, self.settings.max_file_bytes)

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = load_embedder(self.settings.model)
        return self.embedder

    def add(self, path: Path, metadata: dict | None = None) -> BuildReport:
        return self._put(path, metadata, replace=False)

    def update(self, path: Path, metadata: dict | None = None) -> BuildReport:
        return self._put(path, metadata, replace=True)

    def _put(self, path: Path, metadata: dict | None, *, replace: bool) -> BuildReport:
        self._store_file(Path(path), metadata, replace=replace)
        return self.reindex()

    def _store_file(self, path: Path, metadata: dict | None, *, replace: bool) -> Document:
        """The store parses before it writes, so a broken file changes nothing."""
        data, metadata = read_file(path, metadata, self.settings.max_file_bytes)
        return self.store.put(path.name, data, metadata, replace=replace)

    def import_faq(self, path: Path, file_format: str | None = None) -> BuildReport:
        """Every entry of an FAQ file (knowledge_base/faq.py) as a document, added or updated,
        then one new index version. Every entry is checked first: a bad file changes nothing."""
        limit = self.settings.max_file_bytes
        documents = [(f"{entry.doc_id}.txt", entry.text(), entry.metadata())
                     for entry in read_faq(Path(path), limit, file_format)]
        for name, data, metadata in documents:
            parse_bytes(name, data, metadata, limit)  # raises before anything is stored
        for name, data, metadata in documents:
            self.store.put(name, data, metadata, replace=None)
        return self.reindex()

    def remove(self, doc_id: str) -> BuildReport:
        self.store.remove(doc_id)
        return self.reindex()

    def list(self) -> list[StoredDocument]:
        return self.store.list()

    def show(self, doc_id: str) -> Document:
        return self.store.require(doc_id).load(self.settings.max_file_bytes)

    def documents(self) -> list[Document]:
        return [stored.load(self.settings.max_file_bytes) for stored in self.store.list()]

    def reindex(self) -> BuildReport:
        return build_version(self.settings, self.documents(), self._embedder())

    def seed_sample(self, sample_dir: Path = SAMPLE_DIR) -> BuildReport | None:
        """Make the knowledge base servable: load the shipped sample into an empty store, and
        rebuild when the index is missing, of an older format or built with another model."""
        model = self.settings.model if self.embedder is None else self.embedder.name
        if self.store.list() and is_servable(self.settings, model):
            return None
        if not self.store.list():
            for path in sorted(sample_dir.iterdir()):
                if path.suffix.lower() in SUPPORTED_SUFFIXES and path.name != "README.md":
                    self._store_file(path, None, replace=False)
        return self.reindex()
