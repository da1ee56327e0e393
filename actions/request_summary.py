"""Restating a citizen's request in one short line — what, where, since when — as a dispatcher
reads it back before passing it on.

Extractive only: every part is the citizen's own words (their subject line or the sentence that
carries the grievance, a place expression, a time expression), so nothing is invented and the
line stays in their language. Salutations, self-introductions, contact details and closing
formulas are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.message_kind import request_cue_count
from common.privacy import mask_personal_data
from routing.text import asks_what_to_do, without_asking_clauses

MAX_WHAT_CHARS = 36  # Han characters (an English "what" gets about three times as many)
_SALUTATION = re.compile(
    r"^\s*(?:(?:尊敬|敬爱|亲爱)的)?[^\s，,：:。！!]{0,12}(?:领导|书记|市长|县长|区长|局长|厅长|主任|同志"
    r"|工作人员|先生|女士)(?:们)?\s*(?:您好|你们好|你好|好)?\s*[:：,，!！]?\s*(?:您好|你好)?[!！，,。]?"
    r"|^\s*(?:您好|你好|你们好|領導好|领导好)[!！，,。：:]?"
    r"|^\s*(?:dear\s+[^,:\n]{1,40}|to whom it may concern|hello|hi"
    r"|good (?:morning|afternoon|evening))\s*[,:!.]?"
    r"|^\s*(?:subject|re|title|主题|标题|事由)\s*[:：]",
    re.IGNORECASE,
)
# Sentences that are about the writer or the letter, not the problem.
_NOT_THE_PROBLEM = re.compile(
    r"^(?:我叫|本人叫|我家住|我住在|我们住在|我的电话|电话|联系电话|联系方式|手机|我是|本人是|我们是|谢谢|感谢|此致|敬礼"
    r"|望回复|盼复|特此|以上|my name is|i am writing|i'm writing|thank|thanks|regards|yours"
    r"|best wishes|sincerely|my (?:phone|number)|contact me|hello|good morning"
    r"|(?:i|we) live\b|i am an?\b|i'm an?\b|we are\b)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?|[^\n]+")
# not after an abbreviation: "outside No. 23 Heping Road" is one sentence
_EN_SENTENCE = re.compile(r"(?<=[.!?])(?<!\b[Nn]o\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)"
                          r"(?<!\bSt\.)(?<!\bRd\.)(?<!\bMrs\.)(?<!\bAve\.)\s+")
_CLAUSE_END = re.compile(r"[，,、：:]")
_CLAUSE = re.compile(r"(?<=[，,])")
_PUNCTUATION = " \t!！?？。.，,；;：:…~～"
_BARE_PLEA = re.compile(
    r"^(?:please|pls|kindly|i (?:hope|ask|urge)|we (?:hope|ask|urge)"
    r"|(?:i|we) (?:want|would like|'d like) (?:someone|somebody|you|the \w+) to"
    r"|(?:can|could|will) (?:someone|somebody|you)|someone should"
    r"|请|恳请|希望|望|盼|强烈要求|要求)"
    r"(?!.{0,4}(?:路|灯|水|电|校|医))",
    re.IGNORECASE)

_PLACE_ZH = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9]{1,12}?(?:路|街|大道|大街|巷|胡同|小区|花园|家园|公寓|苑|大厦|广场|公园"
    r"|村|镇|乡|街道|社区|小学|中学|大学|学校|幼儿园|医院|卫生院|市场|菜市场|码头|车站|客运站|地铁站"
    r"|工业园|园区|开发区|景区|十字路口|路口|交叉口)(?:[\u4e00-\u9fff0-9]{0,6}?(?:号院|号楼|号|栋|单元|门口|旁边|附近))?"
)
# Leading words that are not part of a place name ("我家住在幸福路" -> "幸福路").
_PLACE_LEAD = re.compile(
    r"^(?:我们|我家|我|本人|家|住|在|于|是|的|位于|就|一家|那个|这个|这家|那家|村里)+")
_PLACE_EN = re.compile(
    r"\b(?:at|on|in|near|outside|opposite|behind|along|from|next to|beside|by|across from"
    r"|in front of|around)\s+((?:the\s+)?(?:[A-Z][\w'-]*\s+){1,4}"
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Estate|Garden|Gardens|Park|Square|Village|Town|District"
    r"|School|Hospital|Market|Station|Pier|Bridge|Compound|Building|Mall|Plaza|Community))\b"
)
_NUMBER = r"(?:\d+|[一二两三四五六七八九十几半数多]+)"
# Since when, most telling first: a duration ("三个多月了"), a start, a date, then vaguer words.
_TIME_ZH = (
    re.compile(rf"(?:已经|已|快|近|都)?{_NUMBER}(?:个)?(?:多)?(?:个)?(?:天|日|周|星期|礼拜|月|年)(?:多)?"
               rf"(?:了|以来|之久)"),
    re.compile(r"(?:从|自)[^，。,]{1,10}(?:开始|以来|起)"),
    re.compile(r"\d{4}年(?:\d{1,2}月)?(?:\d{1,2}[日号])?|\d{1,2}月\d{1,2}[日号]"),
    re.compile(r"(?:上|这|本)(?:个)?(?:月|周|星期)|去年|前年|今年|最近|近期|至今|每天(?:晚上|夜里)?"),
)
_TIME_EN = re.compile(
    r"\bfor (?:the )?(?:past |last )?(?:over |more than |about |almost |nearly )?(?:a|an|one|two"
    r"|three|four|five|six|seven"
    r"|eight|nine|ten|several|many|\d+)\s+(?:days?|weeks?|months?|years?)\b"
    r"|\bsince (?:the )?[\w ]{1,24}?(?=[,.;!?]|$| and\b| but\b)"
    r"|\b(?:last|this) (?:week|month|year|night|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday)\b|\bevery (?:night|day|morning|evening)\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)? of (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Restatement:
    what: str
    where: str = ""
    when: str = ""

    def line(self, language: str) -> str:
        """"路灯坏了（地点：幸福路；时间：两周了）" / "street light out (where: …; since: …)";
        only the parts found, and none the "what" already says."""
        zh = language == "zh"
        where, when = ("地点：", "时间：") if zh else ("where: ", "since: ")
        extra = [f"{label}{value}" for label, value in ((where, self.where), (when, self.when))
                 if value and value not in self.what]
        if not extra:
            return self.what
        return f"{self.what}（{'；'.join(extra)}）" if zh else f"{self.what} ({'; '.join(extra)})"


def as_sentence(line: str, language: str) -> str:
    """The read-back line closed as a sentence ("。" / "."), unless it already ends in one or
    in "…" (cut short: "heavy…." would read as a typo)."""
    if not line or line[-1] in "。.!?！？…":
        return line
    return line + ("。" if language == "zh" else ".")


def _strip_salutation(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _SALUTATION.sub("", text, count=1).lstrip()
    return text


def _sentences(text: str) -> list[str]:
    pieces = []
    for line in text.splitlines():
        for sentence in _SENTENCE.findall(line):
            pieces.extend(part for part in _EN_SENTENCE.split(sentence))
    return [piece.strip(" \t，,") for piece in pieces if len(piece.strip()) >= 2]


def _shorten(sentence: str) -> str:
    """Cut at a clause boundary so the line stays short; never mid-word."""
    han = sum("\u4e00" <= char <= "\u9fff" for char in sentence)
    limit = MAX_WHAT_CHARS if han * 2 >= len(sentence) else MAX_WHAT_CHARS * 3
    sentence = sentence.rstrip("。！？!?；;.")
    if len(sentence) <= limit:
        return sentence
    cut = max((m.start() for m in _CLAUSE_END.finditer(sentence, 0, limit)), default=-1)
    if cut >= limit // 3:
        return sentence[:cut]
    space = sentence.rfind(" ", 0, limit)
    return (sentence[:space] if space > limit // 2 else sentence[:limit]) + "…"


def _what(text: str) -> str:
    """The subject line when the message has one, else the sentence with most grievance cues
    (the earliest on a tie), skipping sentences about the writer."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and len(lines[0]) <= MAX_WHAT_CHARS * 2 \
            and not re.search(r"[。！？!?]\s*\S", lines[0]):
        subject = _strip_salutation(lines[0])
        if subject and not _NOT_THE_PROBLEM.match(subject):
            return _shorten(subject)
    sentences = [s for s in map(_about_the_problem, _sentences(_strip_salutation(text)))
                 if s and not asks_what_to_do(s)]
    if not sentences:
        return _shorten(_strip_salutation(text).strip(_PUNCTUATION) or text.strip())
    index, best = max(enumerate(sentences), key=lambda item: (_score(item[1]), -item[0]))
    if index and _REFERS_BACK.match(best):  # "Its lights are out": say what "it" is
        best = f"{sentences[index - 1].rstrip('.!')} – {best[:1].lower()}{best[1:]}"
    return _shorten(best)


# "I am writing to complain about the construction site …": the lead-in goes, what it is
# about stays (without it, the sentence that names the problem was dropped as "about the letter").
_WRITING_ABOUT = re.compile(
    r"^(?:i am|i'm|we are|we're|i|we) (?:writing|write|contacting you|getting in touch)"
    r"(?: (?:to|in order to) (?:complain|report|ask|tell you|inform you|let you know|raise|"
    r"draw your attention)(?: (?:about|of|that|to|regarding))?| (?:about|regarding|concerning))"
    r"\s+(?:the fact that\s+)?",
    re.IGNORECASE)


_REFERS_BACK = re.compile(r"^(?:it|its|it's|they|their|they're|this|these|those)\b",
                          re.IGNORECASE)


def _about_the_problem(sentence: str) -> str:
    """The sentence without its leading clauses about the writer ("我是…的业主，")."""
    sentence = _WRITING_ABOUT.sub("", sentence.strip(), count=1)
    clauses = [c for c in _CLAUSE.split(sentence.strip(_PUNCTUATION)) if c.strip()]
    while clauses and _NOT_THE_PROBLEM.match(clauses[0].strip()):
        # "I'm a delivery rider and my platform docked my pay": the problem follows "and"
        _, joined, rest = clauses.pop(0).partition(" and ")
        if joined and len(rest.split()) >= 3:
            clauses.insert(0, rest)
            break
    return without_asking_clauses("".join(clauses).strip(_PUNCTUATION + "，, "))


def _score(sentence: str) -> int:
    """Grievance cues, and a place or a time; a bare plea ("请尽快处理") says no "what"."""
    score = request_cue_count(sentence) + bool(_where(sentence)) + bool(_when(sentence))
    return score - 3 if _BARE_PLEA.match(sentence) else score


def _where(text: str) -> str:
    match = _PLACE_EN.search(text)
    if match:
        return match.group(1)
    for match in _PLACE_ZH.finditer(text):
        place = _PLACE_LEAD.sub("", match.group(0))
        tail = re.split(r"[的于在到是]", place)[-1]
        place = tail if len(tail) >= 3 else place
        if len(place) >= 3:
            return place
    return ""


def _when(text: str) -> str:
    for pattern in (*_TIME_ZH, _TIME_EN):
        if match := pattern.search(text):
            return match.group(0).strip()
    return ""


def restate(text: str) -> Restatement:
    """What, where and since when, in the citizen's own words (personal data masked)."""
    text = mask_personal_data(text or "").strip()
    what = _what(text)
    if what[:1].isascii():  # "my platform docked…" read back as a sentence
        what = what[:1].upper() + what[1:]
    return Restatement(what=what, where=_where(text), when=_when(text))
