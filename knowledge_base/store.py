"""The document store: the source of truth staff edit, one folder per document.

`documents/<id>/` holds the uploaded file exactly as received and its validated metadata.
Every write parses the file first, so a broken upload is rejected before anything changes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.documents import Document, DocumentError, Metadata
from knowledge_base.parsers import parse_bytes


@dataclass(frozen=True)
class StoredDocument:
    metadata: Metadata
    path: Path

    def load(self, max_bytes: int) -> Document:
        return parse_bytes(self.path.name, self.path.read_bytes(), self.metadata.to_mapping(),
                           max_bytes)


class DocumentStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _folder(self, doc_id: str) -> Path:
        return self.root / doc_id

    def list(self) -> list[StoredDocument]:
        if not self.root.is_dir():
            return []
        return [doc for folder in sorted(self.root.iterdir()) if (doc := self._read(folder))]

    def get(self, doc_id: str) -> StoredDocument | None:
        folder = self._folder(doc_id)
        return self._read(folder) if folder.is_dir() else None

    def require(self, doc_id: str) -> StoredDocument:
        stored = self.get(doc_id)
        if stored is None:
            raise DocumentError(f"no document with id {doc_id!r}", f"没有编号为 {doc_id!r} 的文件")
        return stored

    def _read(self, folder: Path) -> StoredDocument | None:
        meta_file = folder / "metadata.yml"
        sources = [p for p in folder.glob("source.*")] if folder.is_dir() else []
        if not meta_file.is_file() or not sources:
            return None
        metadata = Metadata.from_mapping(yaml.safe_load(meta_file.read_text(encoding="utf-8")))
        return StoredDocument(metadata, sources[0])

    def put(
        self, filename: str, data: bytes, metadata: dict | None = None, *, replace: bool | None
    ) -> Document:
        """Validate and store a document. `replace`: True, its id must exist (update); False,
        it must not (add); None, either (a draft, whose id may come from the file itself)."""
        document = parse_bytes(filename, data, metadata, self.max_bytes)
        exists = self._folder(document.id).exists()
        if exists and replace is False:
            raise DocumentError(f"a document with id {document.id!r} already exists; use update",
                                f"编号为 {document.id!r} 的文件已存在；请用更新")
        if replace is True and not exists:
            raise DocumentError(f"no document with id {document.id!r}; use add",
                                f"没有编号为 {document.id!r} 的文件；请用新增")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{document.id}-", dir=self.root))
        suffix = Path(filename).suffix.lower()
        (staging / f"source{suffix}").write_bytes(data)
        (staging / "metadata.yml").write_text(
            yaml.safe_dump(document.metadata.to_mapping(), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        target = self._folder(document.id)
        if target.exists():
            retired = target.with_name(f".{document.id}-old")
            shutil.rmtree(retired, ignore_errors=True)
            target.rename(retired)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
        return document

    def remove(self, doc_id: str) -> None:
        shutil.rmtree(self.require(doc_id).path.parent)
