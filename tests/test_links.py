"""Only http(s), mailto and tel links, and no live markup, reach a citizen (`bot.links`)."""

from __future__ import annotations

import re

import pytest

from bot.links import plain_text, safe_link
from knowledge_base.documents import DocumentError, Metadata
from storage.departments import department_view
from storage.models import Department


@pytest.mark.parametrize("url", [
    "https://www.riverside.gov.example/hur/public-rental-housing", "http://127.0.0.1:8080/x",
    "mailto:service@riverside.gov.example", "tel:12345", "tel:+86-571-12345678",
])
def test_web_mail_and_phone_links_are_accepted(url):
    assert safe_link(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)",
    "file:///etc/passwd", "ftp://example.org/x", "//evil.example/x", "https://", "http:///x",
    'https://x.example/"onmouseover="alert(1)', "https://x.example/<script>", "tel:", "",
    "https://x.example/" + "a" * 2000,
])
def test_every_other_link_is_refused(url):
    assert safe_link(url) is None


HOSTILE = (
    "Bring your passport. [Apply online](javascript:alert(1)) "
    "![photo](data:text/html;base64,PHNjcmlwdD4=) <a href=\"javascript:alert(2)\">the form</a> "
    "<img src=x onerror=alert(3)> <javascript:alert(4)> [more][1] <!-- hidden --> "
    "[x](JaVaScRiPt:alert(5)) <svg onload=alert(6)\n"
    "[1]: javascript:alert(7)\n"
    "See [the guide](https://www.riverside.gov.example/guide \"Guide\") or "
    "<mailto:service@riverside.gov.example>. 年龄<60岁。"
)


def test_markup_becomes_plain_text_and_only_safe_addresses_stay():
    text = plain_text(HOSTILE)
    assert not re.search(r"javascript|data:|<[A-Za-z/!]|\]\(|\]\[|onerror", text,
                         re.IGNORECASE), text
    for words in ("Bring your passport.", "Apply online", "photo", "the form", "more",
                  "the guide (https://www.riverside.gov.example/guide)",
                  "mailto:service@riverside.gov.example", "年龄<60岁。"):
        assert words in text
    assert plain_text("一、申请条件：年满18周岁") == "一、申请条件：年满18周岁"
    # a link cut in two by passage splitting keeps its words only
    assert plain_text("Apply ![card](data:text/html;") == "Apply card"


def test_document_sources_are_checked_at_ingest():
    base = {"id": "x-doc", "title": "T", "language": "en", "department": "health"}
    assert Metadata.from_mapping({**base, "source": "tel:12345"}).source == "tel:12345"
    with pytest.raises(DocumentError) as refused:
        Metadata.from_mapping({**base, "source": "javascript:alert(1)"})
    assert "http(s), mailto or tel" in str(refused.value)
    assert "链接" in refused.value.message("zh")


def test_a_department_portal_is_shown_only_if_it_is_a_safe_link():
    department = Department(id="d", name_zh="部门", name_en="Dept", phone="1", hotline="2",
                            address_zh="地址", address_en="Address", hours_zh="h", hours_en="h",
                            portal="javascript:alert(1)", response_days=5, aliases="")
    assert department_view(department, "en").portal == ""
    assert "javascript" not in department_view(department, "en").contact()
    department.portal = "https://www.riverside.gov.example/health"
    assert department_view(department, "zh").portal == department.portal
