"""Reading a city's historical requests (CSV, JSONL or XLSX) and its category mapping.

Every refusal is an `ImportRefused` with the reason in English and Chinese; nothing is
written before the whole file has been read and checked. Texts are masked
(`common.privacy.mask_personal_data`) as they are read, so no personal data goes further.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import yaml

from bot.uploads import BilingualError, json_objects
from common.privacy import mask_personal_data
from routing.config import RoutingSettings

# Column names recognised when the operator does not name them (lower-cased).
TEXT_COLUMNS = ("text", "content", "message", "details", "description", "body", "留言详情",
                "诉求内容", "内容", "详情", "问题描述", "来电内容")
SUBJECT_COLUMNS = ("subject", "title", "留言主题", "主题", "标题")
CATEGORY_COLUMNS = ("category", "department", "dept", "label", "一级分类", "一级标签", "类别",
                    "分类", "部门", "承办单位", "承办部门")
MAX_TEXT_CHARS = 4000


class ImportRefused(BilingualError):
    """Input the importer will not use; says why in both languages."""


@dataclass(frozen=True)
class HistoricalRequest:
    text: str  # masked
    category: str
    id: str = ""


def read_history(path: Path, text_columns: list[str] | None = None,
                 category_column: str | None = None, settings: RoutingSettings | None = None,
                 require_category: bool = True) -> list[HistoricalRequest]:
    """The requests in a CSV, JSONL or XLSX file: the text columns joined by a new line (a
    subject column first, when found), and the category (unless not required: messages to
    route). An `id` column is kept when there is one."""
    settings = settings or RoutingSettings()
    rows = _read_rows(path, settings)
    if not rows:
        raise ImportRefused(f"{path.name} has no rows", f"{path.name} 中没有任何记录")
    if len(rows) > settings.max_import_rows:
        raise ImportRefused(
            f"{path.name} has {len(rows)} rows; at most {settings.max_import_rows} are read "
            f"(GOV_ROUTING_MAX_IMPORT_ROWS)",
            f"{path.name} 有 {len(rows)} 行，最多读取 {settings.max_import_rows} 行"
            f"（GOV_ROUTING_MAX_IMPORT_ROWS）")
    columns = list(rows[0])
    texts = text_columns or _default_text_columns(columns)
    category = (category_column or _find(columns, CATEGORY_COLUMNS)) if require_category else ""
    identifier = _find(columns, ("id", "编号", "留言编号"))
    wanted_columns = [*texts, category] if require_category else texts
    missing = [name for name in wanted_columns if not name or name not in columns]
    if not texts or missing:
        wanted = ", ".join(n for n in missing if n) or "text / category"
        raise ImportRefused(
            f"{path.name}: missing column(s) {wanted}; the file has: {', '.join(columns)}. "
            f"Name them with --text-column and --category-column.",
            f"{path.name}：缺少列 {wanted}；文件中的列为：{', '.join(columns)}。"
            f"请用 --text-column 和 --category-column 指定。")
    requests = []
    for row in rows:
        text = "\n".join(str(row.get(name) or "").strip() for name in texts).strip()
        label = str(row.get(category) or "").strip() if require_category else ""
        if text and (label or not require_category):
            requests.append(HistoricalRequest(mask_personal_data(text)[:MAX_TEXT_CHARS], label,
                                              str(row.get(identifier) or "") if identifier else ""))
    if not requests and require_category:
        raise ImportRefused(f"{path.name}: no row has both a text and a category",
                            f"{path.name}：没有同时包含文本和类别的记录")
    if not requests:
        raise ImportRefused(f"{path.name}: no row has a text", f"{path.name}：没有包含文本的记录")
    return requests


def _default_text_columns(columns: list[str]) -> list[str]:
    text = _find(columns, TEXT_COLUMNS)
    subject = _find(columns, SUBJECT_COLUMNS)
    return [name for name in (subject, text) if name]


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    by_name = {column.strip().lower(): column for column in columns}
    return next((by_name[name] for name in names if name in by_name), None)


def _read_rows(path: Path, settings: RoutingSettings) -> list[dict[str, str]]:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImportRefused(f"cannot read {path}: {error.strerror}",
                            f"无法读取 {path}：{error.strerror}") from error
    limit = settings.max_import_mb * 1024 * 1024
    if size > limit:
        raise ImportRefused(
            f"{path.name} is {size / 1048576:.1f} MB; the limit is {settings.max_import_mb} MB "
            f"(GOV_ROUTING_MAX_IMPORT_MB): split the file",
            f"{path.name} 大小为 {size / 1048576:.1f} MB，上限 {settings.max_import_mb} MB"
            f"（GOV_ROUTING_MAX_IMPORT_MB），请拆分文件")
    if size == 0:
        raise ImportRefused(f"{path.name} is empty", f"{path.name} 是空文件")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    if suffix not in (".csv", ".jsonl", ".json", ".ndjson"):
        raise ImportRefused(f"{path.name}: use a .csv, .jsonl or .xlsx file",
                            f"{path.name}：请使用 .csv、.jsonl 或 .xlsx 文件")
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"{path.name} is not UTF-8 text (byte {error.start}); save it as UTF-8 "
            f"(e.g. from Excel: CSV UTF-8) and try again",
            f"{path.name} 不是 UTF-8 编码（第 {error.start} 字节）；请另存为 UTF-8"
            f"（例如 Excel 的“CSV UTF-8”）后重试") from error
    return _csv_rows(content, path.name) if suffix == ".csv" else _jsonl_rows(content, path.name)


def _csv_rows(content: str, name: str) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(content))
        rows = [dict(row) for row in reader]
    except csv.Error as error:
        raise ImportRefused(f"{name}: not a valid CSV file ({error})",
                            f"{name}：不是有效的 CSV 文件（{error}）") from error
    if reader.fieldnames is None:
        raise ImportRefused(f"{name} has no header row", f"{name} 没有表头行")
    return [{k: v for k, v in row.items() if k is not None} for row in rows]


def _jsonl_rows(content: str, name: str) -> list[dict[str, str]]:
    rows = [{str(k): "" if v is None else str(v) for k, v in row.items()}
            for row in json_objects(content, ImportRefused, name)]
    # Columns of every row, so that a field missing from the first row is still found.
    if rows:
        columns = list(dict.fromkeys(k for row in rows for k in row))
        rows[0] = {column: rows[0].get(column, "") for column in columns}
    return rows


_SHEET_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_MAX_XLSX_XML_BYTES = 400 * 1024 * 1024  # uncompressed: a zip bomb is refused, not expanded


def _xlsx_rows(path: Path) -> list[dict[str, str]]:
    """The first worksheet of an .xlsx workbook (Office Open XML read with the standard
    library: no spreadsheet package is installed), first row as header."""
    try:
        with zipfile.ZipFile(path) as book:
            if sum(item.file_size for item in book.infolist()) > _MAX_XLSX_XML_BYTES:
                raise ImportRefused(f"{path.name}: the workbook expands to too much data",
                                    f"{path.name}：工作簿解压后过大")
            shared = _shared_strings(book)
            sheets = sorted(n for n in book.namelist()
                            if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
            if not sheets:
                raise ImportRefused(f"{path.name}: no worksheet found",
                                    f"{path.name}：找不到工作表")
            sheet = ElementTree.fromstring(book.read(sheets[0]))
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError) as error:
        raise ImportRefused(f"{path.name} is not a readable .xlsx workbook ({error})",
                            f"{path.name} 不是可读取的 .xlsx 工作簿（{error}）") from error
    table = []
    for row in sheet.iterfind(".//m:sheetData/m:row", _SHEET_NS):
        cells: dict[int, str] = {}
        for cell in row.iterfind("m:c", _SHEET_NS):
            cells[_column_index(cell.get("r", ""), len(cells))] = _cell_text(cell, shared)
        table.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    if not table:
        return []
    header = [name.strip() for name in table[0]]
    return [{name: (values[i] if i < len(values) else "") for i, name in enumerate(header) if name}
            for values in table[1:] if any(v.strip() for v in values)]


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in item.iterfind(".//m:t", _SHEET_NS))
            for item in root.iterfind("m:si", _SHEET_NS)]


def _column_index(reference: str, fallback: int) -> int:
    letters = "".join(c for c in reference if c.isalpha())
    if not letters:
        return fallback
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _cell_text(cell: ElementTree.Element, shared: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iterfind(".//m:t", _SHEET_NS))
    value = cell.findtext("m:v", default="", namespaces=_SHEET_NS)
    if kind == "s" and value.isdigit() and int(value) < len(shared):
        return shared[int(value)]
    return value


def read_mapping(path: Path, departments: set[str]) -> dict[str, str]:
    """The operator's mapping from their categories to catalogue department ids (YAML: a
    mapping, optionally under a `categories:` key)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ImportRefused(f"cannot read the mapping file {path.name}: {error}",
                            f"无法读取映射文件 {path.name}：{error}") from error
    if isinstance(data, dict) and isinstance(data.get("categories"), dict):
        data = data["categories"]
    if not isinstance(data, dict) or not data:
        raise ImportRefused(f"{path.name} must map each category to a department id",
                            f"{path.name} 必须把每个类别映射到一个部门编号")
    mapping = {str(k).strip(): str(v).strip() for k, v in data.items()}
    unknown = sorted({v for v in mapping.values() if v not in departments})
    if unknown:
        raise ImportRefused(
            f"{path.name}: unknown department id(s) {', '.join(unknown)}; the catalogue has "
            f"{', '.join(sorted(departments))}",
            f"{path.name}：未知的部门编号 {', '.join(unknown)}；目录中的部门为 "
            f"{', '.join(sorted(departments))}")
    return mapping


def apply_mapping(requests: list[HistoricalRequest],
                  mapping: dict[str, str]) -> list[tuple[str, str]]:
    """(masked text, department) pairs; every category in the file must be mapped, so that
    nothing the operator expects to train on is silently dropped."""
    unmapped = Counter(r.category for r in requests if r.category not in mapping)
    if unmapped:
        listed = ", ".join(f"{name} ({count})" for name, count in unmapped.most_common(20))
        raise ImportRefused(
            f"the mapping leaves out categories found in the file: {listed}. Map them "
            f"(a department id each) and import again.",
            f"映射文件缺少文件中出现的类别：{listed}。请为它们各指定一个部门编号后重新导入。")
    return [(r.text, mapping[r.category]) for r in requests]
