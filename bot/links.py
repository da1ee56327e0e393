"""Which links and markup may reach a citizen: http(s), mailto and tel links, and plain text.

Answers are plain text, whatever a document was written in. A chat widget that renders Markdown
or HTML (Rasa's own widget renders Markdown) must not turn a published document's
`[click](javascript:…)`, `![x](data:…)` or `<a href=…>` into a live link, an image or markup;
and no `javascript:`, `data:` or other scheme is accepted as a link anywhere (document sources,
department portals, staff forms). One place decides both, so every path agrees.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SAFE_SCHEMES = ("http", "https", "mailto", "tel")
MAX_LINK_LENGTH = 2000
_UNSAFE_CHARS = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")
# Markdown: inline links and images, reference-style links, and link reference definitions.
_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\))?)>?"
                          r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?\s*\)")
# A link cut off by passage splitting ("[card](data:text/html;"): its words, never its target.
_CUT_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*")
_REFERENCE_LINK = re.compile(r"!?\[([^\]\n]+)\]\[[^\]\n]*\]")
_REFERENCE_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.MULTILINE)
# HTML: comments, CDATA, tags; autolinks such as <https://…> or <javascript:…>.
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_TAG = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[.*?(?:\]\]>|$)|</?[A-Za-z][^<>]*>", re.DOTALL)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def safe_link(url: str | None) -> str | None:
    """`url` if it is an http(s) link with a host, or a mailto:/tel: link; None otherwise."""
    url = (url or "").strip()
    if not url or len(url) > MAX_LINK_LENGTH or _UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return url if parts.hostname else None
    if scheme in ("mailto", "tel"):
        return url if parts.path else None
    return None


def plain_text(text: str) -> str:
    """`text` with its Markdown and HTML markup taken out: a link keeps its words (and its
    address, when that is a safe link, as plain text a page may show as a link), an image its
    alternative text, and a tag nothing."""

    def inline(match: re.Match[str]) -> str:
        image, label, url = match.group(1), match.group(2).strip(), match.group(3)
        link = None if image else safe_link(url)
        if link and label and label != link:
            return f"{label} ({link})"
        return link or label

    def autolink(match: re.Match[str]) -> str:
        return safe_link(match.group(1)) or ""

    text = _INLINE_LINK.sub(inline, text)
    text = _CUT_LINK.sub(lambda match: match.group(1), text)
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _REFERENCE_LINK.sub(lambda match: match.group(1), text)
    text = _AUTOLINK.sub(autolink, text)
    text = _TAG.sub("", text)
    return _TAG_START.sub("‹", text)  # a tag left unclosed cannot become one later
