"""Turning uploaded files into `Document`s: Markdown, plain text, HTML, PDF and DOCX.

Each format goes through a well-kept parser (markdown-it, BeautifulSoup/lxml, pypdf,
python-docx); what they return is cut into sections by heading. Anything that cannot be read —
corrupt, empty, encrypted, oversized, a zip bomb inside a DOCX, undecodable text — raises
`DocumentError` with a message for staff, before anything is stored or indexed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from knowledge_base.documents import Document, DocumentError, Metadata, Section

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024
_FRONT_MATTER = re.compile(r"^---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_TEXT_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|第[一二三四五六七八九十\d]+[章节条部分]|\d{1,2}(?:\.\d{1,2})*[.、．)]?\s)"
    r"\s*\S.{0,40}$"
)


def parse_file(
    path: Path, metadata: dict | None = None, max_bytes: int = 20 * 1024 * 1024
) -> Document:
    """Parse a file on disk; metadata comes from the argument, front matter or `<file>.meta.yml`."""
    data, metadata = read_file(path, metadata, max_bytes)
    return parse_bytes(Path(path).name, data, metadata, max_bytes)


def read_file(
    path: Path, metadata: dict | None = None, max_bytes: int = 20 * 1024 * 1024
) -> tuple[bytes, dict | None]:
    """A file's bytes and its sidecar metadata (`<file>.meta.yml`) unless metadata is given."""
    path = Path(path)
    data = read_limited(path, max_bytes)
    sidecar = path.with_name(path.name + ".meta.yml")
    if metadata is None and sidecar.is_file():
        metadata = _load_yaml(sidecar.read_text(encoding="utf-8"), sidecar.name)
    return data, metadata


def read_limited(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, or a bilingual DocumentError if it is missing or over `max_bytes`."""
    if not path.is_file():
        raise DocumentError(f"no such file: {path.name}", f"找不到文件：{path.name}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"{path.name} is {size / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB",
            f"{path.name} 有 {size / 1048576:.1f} MB，超过上限 {max_bytes / 1048576:.0f} MB",
        )
    return path.read_bytes()


def parse_bytes(
    filename: str, data: bytes, metadata: dict | None = None, max_bytes: int = 20 * 1024 * 1024
) -> Document:
    """Parse uploaded bytes; `filename` only tells the format."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}",
            f"不支持的文件类型 {suffix or '（无）'}；请使用 {'、'.join(SUPPORTED_SUFFIXES)}",
        )
    if len(data) > max_bytes:
        raise DocumentError(f"file is larger than {max_bytes / 1048576:.0f} MB",
                            f"文件超过 {max_bytes / 1048576:.0f} MB")
    if not data.strip():
        raise DocumentError("the file is empty", "文件是空的")
    parser = _PARSERS[suffix]
    front_matter, sections = parser(data)
    raw = {**(front_matter or {}), **(metadata or {})}
    if not raw:
        raise DocumentError("no metadata: add front matter or a .meta.yml file (id, title, ...)",
                            "没有元数据：请在文件开头或 .meta.yml 文件中填写编号、标题等")
    meta = Metadata.from_mapping(raw)
    sections = tuple(s for s in sections if s.text.strip())
    if not sections:
        raise DocumentError("no readable text found in the document", "文件中没有可读取的文字")
    return Document(meta, tuple(_root_title(meta.title, s) for s in sections))


def _root_title(title: str, section: Section) -> Section:
    """Every heading path starts with the document title, so a citation reads well."""
    headings = tuple(h for h in section.headings if h)
    if headings and headings[0] == title:
        return Section(headings, section.text)
    return Section((title, *headings), section.text)


def _load_yaml(text: str, name: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DocumentError(f"{name}: metadata is not valid YAML ({error})",
                            f"{name}：元数据格式（YAML）有误（{error}）") from error
    if data is not None and not isinstance(data, dict):
        raise DocumentError(f"{name}: metadata must be a mapping",
                            f"{name}：元数据必须是“字段: 值”的形式")
    return data or {}


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as long as the result is plausible text."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text.replace("\r\n", "\n").replace("\r", "\n")
    raise DocumentError("the text is not in a readable encoding (save it as UTF-8)",
                        "文字编码无法识别（请另存为 UTF-8）")


def _looks_like_text(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t") or c == "\ufffd")
    return bad / len(text) < 0.001


class _SectionBuilder:
    """Collects (heading level, heading) and paragraphs into sections with heading paths."""

    def __init__(self) -> None:
        self.path: list[tuple[int, str]] = []
        self.paragraphs: list[str] = []
        self.sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.path = [(lvl, h) for lvl, h in self.path if lvl < level] + [(level, text.strip())]

    def paragraph(self, text: str) -> None:
        text = re.sub(r"[ \t]+", " ", text).strip()
        if text:
            self.paragraphs.append(text)

    def table(self, rows: list[list[str]]) -> None:
        for sentence in table_sentences(rows):
            self.paragraph(sentence)

    def flush(self) -> None:
        if self.paragraphs:
            headings = tuple(h for _, h in self.path)
            self.sections.append(Section(headings, "\n".join(self.paragraphs)))
        self.paragraphs = []

    def result(self) -> list[Section]:
        self.flush()
        return self.sections


_HAN = re.compile(r"[\u4e00-\u9fff]")
_END = ("。", "！", "？", "；", ".", "!", "?", ";")


def table_sentences(rows: list[list[str]]) -> list[str]:
    """A table as one sentence per row, each readable on its own (an answer may quote a single
    row, and the voice channel reads it aloud): the first column names the row, the other
    cells follow with their column headings — "90—99周岁：每人每月300元。", "Ordinary
    passport: fee 120 yuan; time limit 7 working days." With two columns the heading of the
    value is left out (the section says what it is). The first row is taken as the headings."""
    rows = [[re.sub(r"\s+", " ", cell).strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return [" ".join(filter(None, row)) for row in rows]
    headings, sentences = rows[0], []
    for row in rows[1:]:
        chinese = bool(_HAN.search("".join(row)))
        colon, separator, end = ("：", "；", "。") if chinese else (": ", "; ", ".")
        key, values = row[0], row[1:]
        if len(row) == 2:
            parts = [values[0]] if values[0] else []
        else:
            parts = [(f"{heading}{value}" if chinese else f"{_lower_first(heading)} {value}")
                     if heading else value
                     for heading, value in zip(headings[1:], values, strict=False) if value]
        text = separator.join(parts)
        sentence = f"{key}{colon}{text}" if key and text else key or text
        sentences.append(sentence if sentence.endswith(_END) else sentence + end)
    return sentences


def _lower_first(heading: str) -> str:
    """"Time limit" → "time limit" inside a sentence; "VAT rate" stays."""
    return heading[0].lower() + heading[1:] if heading[1:2].islower() else heading


def _parse_markdown(data: bytes) -> tuple[dict, list[Section]]:
    from markdown_it import MarkdownIt

    text = decode_text(data)
    front_matter: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        front_matter = _load_yaml(match.group(1), "front matter")
        text = text[match.end():]
    builder = _SectionBuilder()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    pending_heading: int | None = None
    in_list_item = 0
    table: list[list[str]] | None = None
    for token in tokens:
        if token.type == "table_open":
            table = []
        elif token.type == "table_close":
            builder.table(table or [])
            table = None
        elif table is not None:
            if token.type == "tr_open":
                table.append([])
            elif token.type == "inline" and table:
                table[-1].append(_inline_text(token))
        elif token.type == "heading_open":
            pending_heading = int(token.tag[1])
        elif token.type == "list_item_open":
            in_list_item += 1
        elif token.type == "list_item_close":
            in_list_item -= 1
        elif token.type == "inline":
            text = _inline_text(token)
            if pending_heading is not None:
                builder.heading(pending_heading, text)
                pending_heading = None
            else:
                builder.paragraph(("• " if in_list_item else "") + text)
        elif token.type in ("fence", "code_block"):
            builder.paragraph(token.content)
    return front_matter, builder.result()


def _inline_text(token) -> str:
    """Plain text of an inline token: **bold**, `code` and [links](url) lose their markup."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts) if token.children else token.content


def _parse_text(data: bytes) -> tuple[dict, list[Section]]:
    return {}, _sections_from_lines(decode_text(data).split("\n"))


def _sections_from_lines(lines: Iterable[str]) -> list[Section]:
    """Plain text: short numbered lines ("一、适用对象", "2. Documents") are headings."""
    builder = _SectionBuilder()
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            builder.paragraph(" ".join(paragraph) if _is_latin(paragraph) else "".join(paragraph))
            paragraph.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            end_paragraph()
        elif _TEXT_HEADING.match(line) and not line.endswith(("。", "；", ".", ";", "，", ",")):
            end_paragraph()
            builder.heading(2, line)
        else:
            paragraph.append(line)
    end_paragraph()
    return builder.result()


def _is_latin(lines: list[str]) -> bool:
    sample = "".join(lines)[:200]
    return sum(c.isascii() for c in sample) > len(sample) / 2


def _parse_html(data: bytes) -> tuple[dict, list[Section]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    builder = _SectionBuilder()
    wanted = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "dd", "pre"]
    for element in root.find_all(wanted):
        if element.find_parent("table") or (element.find_parent(["li", "dd"])
                                            and element.name in ("p", "li")):
            continue  # already taken with its container
        if element.name == "table":
            builder.table([[cell.get_text(" ", strip=True)
                            for cell in row.find_all(["th", "td"], recursive=False)]
                           for row in element.find_all("tr")])
            continue
        text = element.get_text(" ", strip=True)
        if element.name.startswith("h"):
            builder.heading(int(element.name[1]), text)
        elif text:
            builder.paragraph(("• " if element.name == "li" else "") + text)
    return {}, builder.result()


def _parse_pdf(data: bytes) -> tuple[dict, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("the PDF is password-protected", "PDF 文件设有密码")
        lines = [line for page in reader.pages for line in (page.extract_text() or "").split("\n")]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise DocumentError(f"the PDF cannot be read ({type(error).__name__})",
                            f"PDF 文件无法读取（{type(error).__name__}）") from error
    return {}, _sections_from_lines(lines)


def _parse_docx(data: bytes) -> tuple[dict, list[Section]]:
    import docx
    from docx.table import Table

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise DocumentError("the DOCX file is damaged (not a valid Word document)",
                            "DOCX 文件已损坏（不是有效的 Word 文档）") from error
    if total > MAX_DOCX_UNCOMPRESSED:
        raise DocumentError("the DOCX file unpacks to more than 50 MB; refusing to open it",
                            "DOCX 文件解压后超过 50 MB，拒绝打开")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many types for broken packages
        raise DocumentError(f"the DOCX file cannot be read ({type(error).__name__})",
                            f"DOCX 文件无法读取（{type(error).__name__}）") from error
    builder = _SectionBuilder()
    for paragraph in document.iter_inner_content():  # paragraphs and tables, in order
        if isinstance(paragraph, Table):
            builder.table([_docx_row(row) for row in paragraph.rows])
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = paragraph.text.strip()
        if not text:
            continue
        level = _docx_heading_level(style)
        if level:
            builder.heading(level, text)
        else:
            bullet = "• " if "List" in style else ""
            builder.paragraph(bullet + text)
    return {}, builder.result()


def _docx_row(row) -> list[str]:
    """A row's cell texts; a merged cell appears once, not once per grid column it spans."""
    cells: list[str] = []
    previous = None
    for cell in row.cells:
        if cell._tc is not previous:
            cells.append(cell.text.strip())
        previous = cell._tc
    return cells


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0


_PARSERS: dict[str, Callable[[bytes], tuple[dict, list[Section]]]] = {
    ".md": _parse_markdown,
    ".markdown": _parse_markdown,
    ".txt": _parse_text,
    ".html": _parse_html,
    ".htm": _parse_html,
    ".pdf": _parse_pdf,
    ".docx": _parse_docx,
}
