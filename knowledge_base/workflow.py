"""Draft -> published, with a version history per document: what the staff workspace uses.

Drafts live beside the published store (`drafts/<id>/`); publishing copies the draft into the
history (`history/<id>/<n>/`, n = 1, 2, …), replaces the published document and builds a new
index version. If that build fails, the previous published document is put back, so the
assistant keeps serving what it served. Rolling back publishes an old version as a new one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from knowledge_base.chunking import PASSAGE, Chunk, chunk_document
from knowledge_base.documents import Document, DocumentError
from knowledge_base.service import KnowledgeBase
from knowledge_base.store import DocumentStore, StoredDocument

if TYPE_CHECKING:
    from knowledge_base.search import Searcher


@dataclass(frozen=True)
class Version:
    number: int
    published_by: str
    published_at: str
    note: str
    path: Path


@dataclass(frozen=True)
class TrialHit:
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    from_draft: bool


class Workflow:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        home = kb.settings.home
        self.drafts = DocumentStore(home / "drafts", kb.settings.max_file_bytes)
        self.history_dir = home / "history"

    # --- drafts ---------------------------------------------------------------------------

    def save_draft(self, filename: str, data: bytes, metadata: dict | None) -> Document:
        """Validate and keep a draft (a broken or hostile file is refused, nothing changes)."""
        # new or replacing: the id may come from the file's own front matter
        return self.drafts.put(filename, data, metadata, replace=None)

    def draft_from_published(self, doc_id: str) -> Document:
        stored = self.kb.store.require(doc_id)
        return self.save_draft(stored.path.name, stored.path.read_bytes(),
                               stored.metadata.to_mapping())

    def draft(self, doc_id: str) -> StoredDocument:
        return self.drafts.require(doc_id)

    def set_questions(self, doc_id: str, questions: list[str]) -> Document:
        """Replace the questions a draft answers (one per line on the staff page)."""
        draft = self.draft(doc_id)
        metadata = {**draft.metadata.to_mapping(), "questions": questions}
        return self.save_draft(draft.path.name, draft.path.read_bytes(), metadata)

    def add_questions(self, doc_id: str, questions: list[str]) -> Document:
        """Citizens' questions staff linked to a document become its questions: added to its
        draft (made from the published document when there is none), live once published,
        and so versioned like any other change."""
        if self.drafts.get(doc_id) is None:
            self.draft_from_published(doc_id)
        draft = self.draft(doc_id)
        return self.set_questions(doc_id, [*draft.metadata.questions, *questions])

    def discard_draft(self, doc_id: str) -> None:
        self.drafts.remove(doc_id)

    def preview_chunks(self, doc_id: str) -> list[Chunk]:
        document = self.draft(doc_id).load(self.kb.settings.max_file_bytes)
        return chunk_document(document, self.kb.settings.chunk_chars,
                              self.kb.settings.overlap_sentences)

    def try_question(self, doc_id: str, question: str, top: int = 3) -> list[TrialHit]:
        """What the assistant would answer if the draft were published: the draft's passages
        scored against the question beside the live index (other documents only)."""
        embedder = self.kb._embedder()
        query = embedder.encode([question])[0]
        chunks = [c for c in self.preview_chunks(doc_id) if c.kind == PASSAGE]
        vectors = embedder.encode([chunk.embedding_text for chunk in chunks])
        title = chunks[0].headings[0] if chunks and chunks[0].headings else doc_id
        hits = [TrialHit(doc_id, title, " > ".join(chunk.headings[1:]) or title, chunk.text,
                         float(score), True)
                for chunk, score in zip(chunks, vectors @ query, strict=True)]
        for hit in self._live_searcher.search(question, None, top + 3):
            if hit.doc_id != doc_id:
                hits.append(TrialHit(hit.doc_id, hit.metadata.title, hit.section, hit.text,
                                     hit.similarity, False))
        return sorted(hits, key=lambda hit: -hit.score)[:top]

    @functools.cached_property
    def _live_searcher(self) -> Searcher:
        """The live index, loaded on first use; it follows new versions by itself."""
        from knowledge_base.search import Searcher

        return Searcher(self.kb.settings, self.kb._embedder())

    # --- publishing -----------------------------------------------------------------------

    def versions(self, doc_id: str) -> list[Version]:
        folder = self.history_dir / doc_id
        if not folder.is_dir():
            return []
        found = []
        for entry in sorted(folder.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0):
            info_file = entry / "published.yml"
            if entry.name.isdigit() and info_file.is_file():
                info = yaml.safe_load(info_file.read_text(encoding="utf-8")) or {}
                found.append(Version(int(entry.name), info.get("by", ""), info.get("at", ""),
                                     info.get("note", ""), entry))
        return found

    def publish(self, doc_id: str, staff: str, note: str = "") -> int:
        """Publish the draft as the next version; returns the version number."""
        draft = self.draft(doc_id)
        number = self._record(doc_id, draft, staff, note)
        self._replace_published(doc_id, draft.path, draft.metadata.to_mapping(), number)
        self.drafts.remove(doc_id)
        return number

    def roll_back(self, doc_id: str, version: int, staff: str) -> int:
        old = next((v for v in self.versions(doc_id) if v.number == version), None)
        if old is None:
            raise DocumentError(f"document {doc_id!r} has no version {version}",
                                f"文件 {doc_id!r} 没有第 {version} 版")
        stored = DocumentStore(old.path.parent, self.kb.settings.max_file_bytes).get(old.path.name)
        if stored is None:
            raise DocumentError(f"version {version} of {doc_id!r} is unreadable",
                                f"文件 {doc_id!r} 第 {version} 版无法读取")
        number = self._record(doc_id, stored, staff, f"rollback to version {version}")
        self._replace_published(doc_id, stored.path, stored.metadata.to_mapping(), number)
        return number

    def unpublish(self, doc_id: str) -> None:
        self.kb.remove(doc_id)

    def _record(self, doc_id: str, source: StoredDocument, staff: str, note: str) -> int:
        versions = self.versions(doc_id)
        number = (versions[-1].number if versions else 0) + 1
        target = self.history_dir / doc_id / str(number)
        target.mkdir(parents=True)
        shutil.copy2(source.path, target / source.path.name)
        metadata = {**source.metadata.to_mapping(), "version": number}
        (target / "metadata.yml").write_text(
            yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (target / "published.yml").write_text(yaml.safe_dump(
            {"by": staff, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "note": note}, allow_unicode=True), encoding="utf-8")
        return number

    def _replace_published(self, doc_id: str, source: Path, metadata: dict,
                           number: int) -> None:
        store = self.kb.store
        previous = store.get(doc_id)
        backup = (previous.path.name, previous.path.read_bytes(),
                  previous.metadata.to_mapping()) if previous else None
        store.put(source.name, source.read_bytes(), {**metadata, "version": number},
                  replace=previous is not None)
        try:
            self.kb.reindex()
        except Exception:
            # keep serving what was served: restore the store and forget this version
            if backup:
                store.put(*backup[:2], backup[2], replace=True)
            else:
                store.remove(doc_id)
            shutil.rmtree(self.history_dir / doc_id / str(number), ignore_errors=True)
            raise

    # --- comparing ------------------------------------------------------------------------

    def text_of(self, doc_id: str, version: int) -> list[str]:
        old = next((v for v in self.versions(doc_id) if v.number == version), None)
        if old is None:
            raise DocumentError(f"document {doc_id!r} has no version {version}",
                                f"文件 {doc_id!r} 没有第 {version} 版")
        stored = DocumentStore(old.path.parent, self.kb.settings.max_file_bytes).get(old.path.name)
        document = stored.load(self.kb.settings.max_file_bytes)
        lines = [f"# {document.metadata.title}"]
        for section in document.sections:
            lines.append("## " + " > ".join(section.headings))
            lines.extend(part for part in section.text.splitlines() if part.strip())
        return lines

    def diff(self, doc_id: str, old: int, new: int) -> list[str]:
        return list(difflib.unified_diff(self.text_of(doc_id, old), self.text_of(doc_id, new),
                                         f"v{old}", f"v{new}", lineterm=""))

