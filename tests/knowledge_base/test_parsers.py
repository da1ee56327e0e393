"""Every supported format parses into titled sections; every broken file is refused clearly."""

from __future__ import annotations

import io
import zipfile

import pytest

from knowledge_base.documents import DocumentError
from knowledge_base.parsers import parse_bytes, parse_file

META = {"id": "doc-1", "title": "Passport guide", "language": "en",
        "department": "public_security", "effective_date": "2024-01-01"}


def test_markdown_with_front_matter_and_nested_headings():
    data = ("---\nid: md-1\ntitle: T\nlanguage: zh\ndepartment: health\n---\n# T\n\n"
            "## 所需材料\n\n- **身份证**。\n- [照片](https://x.example)。\n\n"
            "### 补充\n\n其他材料。\n\n## 时限\n\n7天。\n").encode()
    document = parse_bytes("x.md", data)
    assert [s.headings for s in document.sections] == [
        ("T", "所需材料"), ("T", "所需材料", "补充"), ("T", "时限")]
    assert document.sections[0].text == "• 身份证。\n• 照片。"


def test_html_takes_main_content_without_navigation():
    html = b"""<html><body><nav>Home | About</nav><main><h1>Passport guide</h1>
    <h2>Documents</h2><p>Bring your ID card.</p><ul><li>One photo</li></ul></main>
    <footer>Copyright</footer><script>alert(1)</script></body></html>"""
    document = parse_bytes("p.html", html, META)
    text = " ".join(s.text for s in document.sections)
    assert "Bring your ID card." in text and "• One photo" in text
    assert "Home" not in text and "Copyright" not in text and "alert" not in text
    assert document.sections[0].headings == ("Passport guide", "Documents")


def test_plain_text_numbered_headings():
    text = "一、适用对象\n本市户籍居民。\n\n二、办理材料\n身份证原件。\n户口簿。\n".encode()
    document = parse_bytes("g.txt", text, {**META, "language": "zh"})
    assert [s.headings[-1] for s in document.sections] == ["一、适用对象", "二、办理材料"]


def test_gb18030_text_is_decoded():
    document = parse_bytes("g.txt", "一、说明\n办理需要身份证。\n".encode("gb18030"),
                           {**META, "language": "zh"})
    assert "身份证" in document.sections[0].text


def test_docx_headings(tmp_path):
    import docx

    word = docx.Document()
    word.add_heading("Passport guide", level=1)
    word.add_heading("Fees", level=2)
    word.add_paragraph("The fee is 120 yuan.")
    path = tmp_path / "guide.docx"
    word.save(path)
    document = parse_file(path, META)
    assert document.sections[0].headings == ("Passport guide", "Fees")
    assert document.sections[0].text == "The fee is 120 yuan."


ROWS_EN = ["Ordinary passport: fee 120 yuan; time limit 7 working days.",
           "Hong Kong and Macao permit: fee 60 yuan."]


def test_markdown_table_rows_read_as_sentences():
    """Each row stands on its own, so a quoted passage (or the voice channel reading it)
    keeps what a number means, instead of "年龄段发放标准80—89周岁每人每月100元…"."""
    data = ("---\nid: md-2\ntitle: T\nlanguage: zh\ndepartment: civil_affairs\n---\n"
            "## 发放标准\n\n| 年龄段 | 发放标准 |\n| --- | --- |\n"
            "| 80—89周岁 | 每人每月100元 |\n| 90—99周岁 | 每人每月300元 |\n\n按月发放。\n").encode()
    assert parse_bytes("x.md", data).sections[0].text == (
        "80—89周岁：每人每月100元。\n90—99周岁：每人每月300元。\n按月发放。")
    data = (b"## Fees\n\n| Document | Fee | Time limit |\n|---|---|---|\n"
            b"| Ordinary passport | 120 yuan | 7 working days |\n"
            b"| Hong Kong and Macao permit | 60 yuan | |\n")
    assert parse_bytes("x.md", data, META).sections[0].text.split("\n") == ROWS_EN


def test_html_table_rows_read_as_sentences():
    html = b"""<html><body><main><h2>Fees</h2><table>
    <tr><th>Document</th><th>Fee</th><th>Time limit</th></tr>
    <tr><td>Ordinary passport</td><td><p>120 yuan</p></td><td>7 working days</td></tr>
    <tr><td>Hong Kong and Macao permit</td><td>60 yuan</td><td></td></tr>
    </table><p>Pay at the counter.</p></main></body></html>"""
    text = parse_bytes("p.html", html, META).sections[0].text
    assert text.split("\n") == [*ROWS_EN, "Pay at the counter."]


def test_docx_tables_are_read_in_place(tmp_path):
    import docx

    word = docx.Document()
    word.add_heading("Fees", level=2)
    word.add_paragraph("Fees are set by the state.")
    table = word.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [["Document", "Fee", "Time limit"],
                                       ["Ordinary passport", "120 yuan", "7 working days"],
                                       ["Hong Kong and Macao permit", "60 yuan", ""]],
                          strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    word.add_paragraph("Pay at the counter.")
    path = tmp_path / "fees.docx"
    word.save(path)
    text = parse_file(path, META).sections[0].text
    assert text.split("\n") == ["Fees are set by the state.", *ROWS_EN, "Pay at the counter."]


def test_docx_zip_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (60 * 1024 * 1024))
    with pytest.raises(DocumentError, match="50 MB"):
        parse_bytes("bomb.docx", buffer.getvalue(), META)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip", "DOCX"),
        ("empty.md", b"   \n", "empty"),
        ("binary.txt", bytes(range(256)) * 10, "encoding"),
        ("virus.exe", b"MZ...", "unsupported"),
        ("notitle.md", b"---\nid: x1\nlanguage: en\ndepartment: health\n---\nhello", "title"),
        ("badid.md", b"---\nid: ../etc/passwd\ntitle: t\nlanguage: en\ndepartment: h\n---\nx",
         "invalid id"),
        ("badlang.md", b"---\nid: ok-1\ntitle: t\nlanguage: fr\ndepartment: h\n---\nx", "language"),
        ("baddate.md", b"---\nid: ok-1\ntitle: t\nlanguage: en\ndepartment: h\n"
                       b"effective_date: soon\n---\nx", "date"),
    ],
)
def test_bad_files_get_a_clear_error(name, data, message):
    with pytest.raises(DocumentError, match=message):
        parse_bytes(name, data)


def test_size_limit():
    with pytest.raises(DocumentError, match="larger than"):
        parse_bytes("big.md", b"x" * 2048, META, max_bytes=1024)
