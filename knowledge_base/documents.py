"""What a policy document is once parsed, whatever file it came from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.links import safe_link
from bot.uploads import BilingualError

LANGUAGES = ("zh", "en")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,100}$")
# The questions a document answers (citizens' questions are matched against them as well as
# against its passages): at most this many, each at most this long.
MAX_QUESTIONS, MAX_QUESTION_CHARS = 200, 1000


class DocumentError(BilingualError):
    """A document that cannot be accepted; says why, in English and Chinese, for staff."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, e.g. ("护照办理指南", "所需材料")."""

    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Metadata:
    id: str
    title: str
    language: str
    department: str
    source: str = ""
    effective_date: dt.date | None = None
    expires: dt.date | None = None
    superseded_by: str | None = None
    version: int = 1
    questions: tuple[str, ...] = ()

    def is_current(self, today: dt.date | None = None) -> bool:
        """Expired or superseded policy must never be given as current."""
        today = today or dt.date.today()
        if self.superseded_by:
            return False
        if self.expires and self.expires < today:
            return False
        return not (self.effective_date and self.effective_date > today)

    @classmethod
    def from_mapping(cls, raw: dict) -> Metadata:
        """Validate metadata from front matter, a sidecar file or a staff form."""
        if not isinstance(raw, dict):
            raise DocumentError("metadata must be a mapping of fields",
                                "元数据必须是“字段: 值”的形式")
        missing = [name for name in ("id", "title", "language", "department") if not raw.get(name)]
        if missing:
            raise DocumentError(f"missing metadata: {', '.join(missing)}",
                                f"缺少元数据：{'、'.join(missing)}")
        doc_id = str(raw["id"]).strip()
        if not _ID.match(doc_id):
            raise DocumentError(f"invalid id {doc_id!r}: use lowercase letters, digits and '-'",
                                f"编号 {doc_id!r} 无效：只能用小写字母、数字和“-”")
        language = str(raw["language"]).strip().lower()
        if language not in LANGUAGES:
            raise DocumentError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}",
                                f"语言必须是 {'、'.join(LANGUAGES)} 之一，而不是 {language!r}")
        try:
            version = int(raw.get("version") or 1)
        except (TypeError, ValueError) as error:
            message = f"version must be a whole number: {raw.get('version')!r}"
            raise DocumentError(message, f"版本号必须是整数：{raw.get('version')!r}") from error
        source = str(raw.get("source") or "").strip()
        if source and not safe_link(source):
            raise DocumentError(
                f"source must be an http(s), mailto or tel link, not {source[:80]!r}",
                f"来源必须是 http(s)、mailto 或 tel 链接，而不是 {source[:80]!r}")
        return cls(
            id=doc_id,
            title=str(raw["title"]).strip(),
            language=language,
            department=str(raw["department"]).strip(),
            source=source,
            effective_date=_date(raw.get("effective_date"), "effective_date"),
            expires=_date(raw.get("expires"), "expires"),
            superseded_by=(str(raw["superseded_by"]).strip() or None)
            if raw.get("superseded_by") else None,
            version=version,
            questions=questions_of(raw.get("questions")),
        )

    def to_mapping(self) -> dict:
        return {
            "id": self.id, "title": self.title, "language": self.language,
            "department": self.department, "source": self.source,
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "superseded_by": self.superseded_by, "version": self.version,
            "questions": list(self.questions),
        }


def questions_of(value: object) -> tuple[str, ...]:
    """The `questions` field: a list (front matter, sidecar) or one question per line (the
    staff form); blanks and repeats dropped, order kept."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)) or not all(isinstance(q, str) for q in value):
        raise DocumentError("questions must be a list of texts",
                            "questions（常见问题）必须是文字列表")
    found: list[str] = []
    for question in (" ".join(q.split()) for q in value):
        if question and question not in found:
            found.append(question)
    if len(found) > MAX_QUESTIONS:
        raise DocumentError(f"at most {MAX_QUESTIONS} questions per document, not {len(found)}",
                            f"每个文件最多 {MAX_QUESTIONS} 个问题，现有 {len(found)} 个")
    long = next((q for q in found if len(q) > MAX_QUESTION_CHARS), None)
    if long:
        raise DocumentError(f"a question is longer than {MAX_QUESTION_CHARS} characters: "
                            f"{long[:40]}…", f"有问题超过 {MAX_QUESTION_CHARS} 字：{long[:40]}…")
    return tuple(found)


def _date(value: object, name: str) -> dt.date | None:
    if value in (None, "", "null"):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise DocumentError(f"{name} must be a date like 2024-03-01, not {value!r}",
                            f"{name} 必须是日期，例如 2024-03-01，而不是 {value!r}") from error


@dataclass(frozen=True)
class Document:
    metadata: Metadata
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return self.metadata.id

    def text_length(self) -> int:
        return sum(len(section.text) for section in self.sections)
