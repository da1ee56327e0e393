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
