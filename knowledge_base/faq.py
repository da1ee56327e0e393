"""FAQ collections as documents: one document per (question, answer), from CSV, JSONL or XML.

A city's FAQ export (question, answer, department, keywords, date; a portal's XML, a
spreadsheet saved as CSV, JSON Lines) becomes one document per entry: its answer is the text,
its question is one of the document's questions (matched against citizens' questions,
knowledge_base/search.py), its department is named in the citation. The whole file is checked
before anything is stored, so a bad file changes nothing; answers are reduced to plain text
(HTML tags, scripts and styles dropped, never run).

XML is read with the standard library after refusing any DOCTYPE, so no entity (internal or
external) can be declared, expanded or fetched.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from bot.links import safe_link
from bot.text import detect_language
from bot.uploads import json_objects
from knowledge_base.documents import DocumentError, Metadata
from knowledge_base.parsers import read_limited

FORMATS = ("csv", "jsonl", "xml")
# Accepted spellings of each field (a portal's export names them its own way).
FIELDS = {
    "id": ("id", "data_id", "faq_id"),
    "question": ("question", "q", "title"),
    "answer": ("answer", "a", "content"),
    "department": ("department", "dept", "unit"),
    "keywords": ("keywords", "keyword", "tags"),
    "date": ("date", "post_date", "updated"),
    "source": ("source", "link", "url"),
}
REQUIRED = ("id", "question", "answer", "department")
_SLUG = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]")


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    department: str
    keywords: tuple[str, ...]
    date: str
    source: str

    @property
    def doc_id(self) -> str:
        return "faq-" + _SLUG.sub("-", self.id.lower()).strip("-")[:90]

    def metadata(self) -> dict:
        """Validated document metadata. Its source is the entry's link when it is a safe one
        (bot.links); without one, the citation names the department and the entry's document
        id instead (actions/knowledge.py citation)."""
        language = detect_language(self.question + self.answer).language or "zh"
        date = self.date[:10] if re.match(r"\d{4}-\d{2}-\d{2}", self.date) else None
        source = self.source if safe_link(self.source) else ""
        raw = {"id": self.doc_id, "title": self.question, "language": language,
               "department": self.department, "source": source, "effective_date": date,
               "questions": [self.question]}
        Metadata.from_mapping(raw)
        return raw

    def text(self) -> bytes:
        """The answer as a plain-text document (keywords kept as a last line to be found by)."""
        body = self.answer
        if self.keywords:
            body += "\n\n" + "、".join(self.keywords)
        return body.encode("utf-8")


def format_of(path: Path, chosen: str | None = None) -> str:
    name = (chosen or Path(path).suffix.lstrip(".")).lower()
    name = {"json": "jsonl", "ndjson": "jsonl"}.get(name, name)
    if name not in FORMATS:
        raise DocumentError(
            f"unknown FAQ format {name or '(none)'}; use {', '.join(FORMATS)}",
            f"无法识别的常见问题格式 {name or '（无）'}；请使用 {'、'.join(FORMATS)}")
    return name


def read_faq(path: Path, max_bytes: int, chosen_format: str | None = None) -> list[FaqEntry]:
    """Every entry of an FAQ file, checked; DocumentError (bilingual) for the first problem."""
    path = Path(path)
    return parse_faq(read_limited(path, max_bytes), format_of(path, chosen_format))


def parse_faq(data: bytes, kind: str) -> list[FaqEntry]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError("the FAQ file is not UTF-8 text",
                            "常见问题文件不是 UTF-8 文字") from error
    rows = {"csv": _csv_rows, "jsonl": _jsonl_rows, "xml": _xml_rows}[kind](text)
    if not rows:
        raise DocumentError("the FAQ file has no entries", "常见问题文件中没有条目")
    entries, seen = [], {}
    for number, row in enumerate(rows, start=1):
        entry = _entry(row, number)
        if entry.doc_id in seen:
            raise DocumentError(
                f"entry {number}: id {entry.id!r} repeats entry {seen[entry.doc_id]}",
                f"第 {number} 条：编号 {entry.id!r} 与第 {seen[entry.doc_id]} 条重复")
        seen[entry.doc_id] = number
        entries.append(entry)
    return entries


def _entry(row: dict, number: int) -> FaqEntry:
    values = {}
    for field, names in FIELDS.items():
        value = next((row[n] for n in names if row.get(n) not in (None, "")), "")
        values[field] = value if isinstance(value, list) else str(value).strip()
    missing = [field for field in REQUIRED if not values[field]]
    if missing:
        raise DocumentError(f"entry {number}: missing or empty {', '.join(missing)}",
                            f"第 {number} 条：缺少或为空：{'、'.join(missing)}")
    answer = plain_text(values["answer"])
    if not answer:
        raise DocumentError(f"entry {number}: the answer has no text",
                            f"第 {number} 条：答案没有文字内容")
    keywords = values["keywords"]
    if isinstance(keywords, str):
        keywords = [k for k in re.split(r"[,，;；、\s]+", keywords) if k]
    entry = FaqEntry(values["id"], " ".join(plain_text(values["question"]).split()), answer,
                     plain_text(values["department"]), tuple(str(k) for k in keywords),
                     values["date"], values["source"])
    if not _SLUG.sub("", entry.id.lower()):
        raise DocumentError(f"entry {number}: id {entry.id!r} has no letters or digits",
                            f"第 {number} 条：编号 {entry.id!r} 没有字母或数字")
    try:
        entry.metadata()
    except DocumentError as error:
        raise DocumentError(f"entry {number}: {error}",
                            f"第 {number} 条：{error.message_zh}") from error
    return entry


def plain_text(value: str) -> str:
    """Text without markup: tags dropped, scripts and styles with their content; control
    characters (exports carry stray ones) dropped."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if "<" not in value and "&" not in value:
        return value.strip()
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(value, "lxml")
    for element in soup(["script", "style", "iframe", "object", "embed", "noscript"]):
        element.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _csv_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {(c or "").strip().lower() for c in reader.fieldnames or ()}
    _require_columns(columns)
    try:
        return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    except csv.Error as error:
        raise DocumentError(f"the CSV file is broken: {error}", f"CSV 文件有误：{error}") from error


def _jsonl_rows(text: str) -> list[dict]:
    rows = [{str(k).lower(): v for k, v in row.items()}
            for row in json_objects(text, DocumentError)]
    if rows:
        _require_columns(set().union(*rows))
    return rows


def _xml_rows(text: str) -> list[dict]:
    """Entries are the elements that have a question and an answer child (any nesting):
    <faqs><faq><id>…</id><question>…</question><answer>…</answer>…</faq></faqs>."""
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise DocumentError("XML with a DOCTYPE or entity declarations is refused",
                            "不接受含 DOCTYPE 或实体声明的 XML")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise DocumentError(f"the XML file is broken: {error}", f"XML 文件有误：{error}") from error
    rows = []
    for element in root.iter():
        children = {child.tag.lower(): "".join(child.itertext()) for child in element}
        if any(n in children for n in FIELDS["question"]) and any(
                n in children for n in FIELDS["answer"]):
            rows.append(children)
    if not rows:
        raise DocumentError("no entries with <question> and <answer> found in the XML file",
                            "XML 文件中没有找到含 <question> 和 <answer> 的条目")
    _require_columns(set().union(*rows))
    return rows


def _require_columns(columns: set[str]) -> None:
    missing = [field for field in REQUIRED if not any(n in columns for n in FIELDS[field])]
    if missing:
        raise DocumentError(
            f"missing columns: {', '.join(missing)} (accepted names: "
            + "; ".join(f"{f}: {'/'.join(FIELDS[f])}" for f in missing) + ")",
            f"缺少列：{'、'.join(missing)}（可用列名："
            + "；".join(f"{f}：{'/'.join(FIELDS[f])}" for f in missing) + "）")
