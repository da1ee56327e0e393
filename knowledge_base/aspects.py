"""What a question asks for, and what a section tells: the steps, the materials, the fees...

A guide answers "how do I apply?", "what do I bring?" and "how much?" in different sections of
one document. Meaning alone finds the document but often quotes the wrong section of it (怎么
办理居住证？ got "什么是居住证" while the steps were two sections further down). So both sides
are labelled with the same few aspects:

- a section by its headings, at ingest (`section_aspects`, stored with each chunk, nothing to
  compute at query time); a section can have two ("收费和时限", "Documents and fees");
Aspects: the steps, the materials, the fees, the time (deadlines, processing), the place
(where and when open), the contact (phone), the amount (of a benefit or rate), who is
eligible, and booking an appointment (a section of its own in some guides, else a step).

- a question by its wording (`question_aspect`), one aspect, the most specific that matches.

Search then quotes, of a document it found, the passage of the section with the question's
aspect (`knowledge_base.search`), and `trim` keeps the sentences of a prose passage that carry
that aspect. Cues are matched on `bot.text.normalize`d text (Traditional folded to Simplified,
lower case), so the lists hold Simplified Chinese and lower-case English only.
"""

from __future__ import annotations

import re

from bot.text import normalize

STEPS, MATERIALS, FEES, TIME, PLACE, CONTACT, AMOUNT, ELIGIBILITY, APPOINTMENT = (
    "steps", "materials", "fees", "time", "place", "contact", "amount", "eligibility",
    "appointment")
ASPECTS = (STEPS, MATERIALS, FEES, TIME, PLACE, CONTACT, AMOUNT, ELIGIBILITY, APPOINTMENT)


def _cues(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns))


# Headings: what a section is about. "Who can apply" is eligibility, not steps, so eligibility
# is looked for first and a heading it claims is not also read as steps.
_HEADING_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (ELIGIBILITY, _cues(r"条件", r"对象", r"适用", r"谁可以", r"哪些人", r"资格", r"\bwho\b",
                        r"eligib", r"conditions")),
    (MATERIALS, _cues(r"材料", r"资料", r"证件", r"\bdocuments?\b", r"to bring", r"to provide",
                      r"to prepare", r"information you need", r"what to include")),
    (FEES, _cues(r"收费", r"费用", r"工本费", r"保证金", r"\bfees?\b", r"\bcosts?\b",
                 r"\bfares?\b")),
    (TIME, _cues(r"时限", r"期限", r"有效期", r"办理时间", r"处理时间", r"报名时间", r"录取时间",
                 r"何时", r"什么时候", r"多久", r"processing time", r"time limits?",
                 r"\bdeadlines?\b", r"validity", r"\bwhen\b",
                 r"timetable", r"when to", r"if you are late")),
    (PLACE, _cues(r"地点", r"地址", r"窗口", r"机构", r"渠道", r"where", r"opening hours")),
    (CONTACT, _cues(r"咨询", r"联系", r"电话", r"热线", r"contacts?", r"enquiries",
                    r"who to call", r"hotline")),
    (AMOUNT, _cues(r"标准", r"金额", r"额度", r"比例", r"费率", r"利率", r"how much", r"amounts?",
                   r"\brates?\b", r"benefits")),
    (APPOINTMENT, _cues(r"预约", r"appointment", r"\bbooking")),
    (STEPS, _cues(r"流程", r"步骤", r"程序", r"如何", r"怎么", r"办理方式", r"申请登记",
                  r"领取方式",
                  r"第[一二三四五六七八九十]步", r"网上办理", r"线上办理", r"窗口办理", r"how to",
                  r"\bsteps?\b", r"procedure", r"\bprocess\b", r"apply online", r"register")),
)

# Questions, most specific first: "how much does it cost" is fees, "what documents do I need
# when..." is materials, "how long" is time, only then is "how do I" the steps. "几点" is left
# out: 最晚到几点 asks a rule, not opening hours.
_QUESTION_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (AMOUNT, _cues(r"领多少", r"能[领提补报拿贷取]多少", r"补多少", r"补贴多少", r"发多少",
                   r"报销多少", r"贷多少", r"报多少", r"标准是", r"税率", r"利率", r"比例",
                   # "一个月多少", "how much per month?": a sum paid out over time
                   r"(?:每月|每个月|一个月|每年|一年)(?:能|可以)?[领发拿补给]?多少",
                   r"how much (?:per|a|each|every) (?:month|year|week)",
                   # "how much [unemployment benefit] do I get", "how much is the [elderly]
                   # allowance", "what's the benefit amount": what is paid out, not a fee. The
                   # benefit's name is looked at, not matched: `without_cues` keeps it.
                   r"how much(?= (?:[a-z']+ ){0,3}(?:do|will|can|would) (?:i|we|you|he|she|they) "
                   r"(?:get|receive|be paid|borrow|claim))",
                   r"how much is(?= (?:the |my |a )?(?:[a-z']+ ){0,2}(?:allowance|subsidy|benefit"
                   r"|pension))",
                   r"(?:(?<=allowance )|(?<=subsidy )|(?<=benefit )|(?<=benefits )|(?<=pension )"
                   r"|(?<=payment )|(?<=grant )|(?<=compensation )|(?<=loan ))amounts?\b",
                   r"\bamounts?(?= of (?:the |my |a )?(?:[a-z']+ ){0,2}(?:allowance|subsidy|benefit"
                   r"|pension|payment|grant|compensation|loan))",
                   r"\brates?\b")),
    (FEES, _cues(r"多少钱", r"费用", r"收费", r"收不收", r"要钱", r"花钱", r"交钱", r"付钱",
                 r"掏钱", r"免费", r"工本费",
                 r"价格", r"价钱", r"交多少", r"付多少", r"\bcosts?\b", r"\bfees?\b",
                 r"\bcharges?\b", r"how much (?:is|does|do|will)", r"\bprice\b", r"\bfree\b")),
    (MATERIALS, _cues(r"材料", r"需要带", r"带什么", r"准备什么", r"准备哪些", r"什么证件",
                      r"哪些证件", r"资料", r"要带", r"提交什么", r"带哪些", r"带啥", r"得带",
                      r"documents?\b", r"\bbring\b",
                      r"paperwork", r"what do i need", r"papers\b")),
    (TIME, _cues(r"多久", r"多长时间", r"几天", r"几个工作日", r"什么时候", r"何时", r"期限",
                 r"几耐", r"几时",  # Cantonese: 幾耐 (how long), 幾時 (when)
                 r"截止", r"时限", r"有效期", r"多少天", r"how long", r"\bwhen\b", r"deadline",
                 r"how many days", r"how soon", r"valid for", r"来得及", r"赶得上", r"赶得及",
                 r"in time\b")),
    (CONTACT, _cues(r"电话", r"热线", r"联系方式", r"phone", r"hotline", r"\bcall\b",
                    r"contact")),
    # 在哪里 whole, or "在哪" leaves 里 behind as a topic word
    (PLACE, _cues(r"[在去到]?哪里", r"[在去到]?哪儿", r"在哪", r"去哪", r"地址", r"地点", r"窗口",
                  r"办公时间", r"上班时间", r"\bwhere\b", r"address", r"office hours",
                  r"opening hours", r"which office",
                  r"(?:complain|report(?: it| this| them)?) to\b")),
    (ELIGIBILITY, _cues(r"条件", r"资格", r"符合", r"谁可以", r"哪些人", r"eligib", r"qualify",
                        r"who can")),
    (APPOINTMENT, _cues(r"预约", r"\bappointments?\b", r"\bbook (?:a|an|my)\b")),
    (STEPS, _cues(r"怎么办", r"怎么申请", r"如何申请", r"怎样申请", r"怎么办理", r"如何办理",
                  r"怎样办理", r"怎么领", r"如何领", r"怎么弄", r"怎么登记", r"如何登记", r"流程",
                  r"步骤", r"手续", r"怎么报", r"维权", r"怎么处理", r"如何处理", r"该怎么",
                  r"how (?:do|can|should) (?:i|we)\b", r"how to\b",
                  r"what (?:can|could|should|do) (?:i|we) do\b", r"what are my options",
                  r"\bprocedure", r"\bsteps?\b", r"\bprocess\b", r"apply for")),
)

# A lost, stolen or damaged card or certificate: the question wants how to report and replace
# it (补领, 补办), which a guide often tells in a section of its own ("挂失补领流程", "Lost
# passports") whatever else the question asks. The section's headings show it.
_REPLACEMENT_QUESTION = _cues(r"丢了", r"丢失", r"掉了", r"遗失", r"弄丢", r"被偷", r"被盗",
                              r"被抢", r"补办", r"补领", r"挂失", r"\blost\b", r"\bstolen\b",
                              r"\breplac", r"misplaced", r"找不到", r"找不着", r"不见了",
                              r"can'?t find", r"cannot find", r"couldn'?t find")
_REPLACEMENT_HEADING = _cues(r"补领", r"补办", r"挂失", r"丢失", r"遗失", r"\blost\b",
                             r"\bstolen\b", r"\breplac")
# ... and in a passage's text, where a guide tells it in passing ("补换卡免收工本费", 補發).
# 补办 alone also means doing something late ("出院结算前补办备案"): only before a card or a
# certificate.
_REPLACEMENT_TEXT = _cues(r"补领", r"补换", r"补发", r"换补", r"挂失", r"丢失", r"遗失", r"被盗",
                          r"补办.{0,6}[证卡照牌]", r"\blost\b", r"\bstolen\b", r"\breplac",
                          r"\breissu")
# "What can I do?": the citizen wants the options, in order (negotiate, then mediate, then
# sue), not the one step whose wording is closest.
_OPTIONS_QUESTION = _cues(r"(?:不|没|被|了)[^，。？！,?!]{0,8}(?:怎么办|咋办)(?!理)", r"该怎么办",
                          r"有什么办法",
                          r"有啥办法", r"维权",
                          r"what (?:can|could|should|do) (?:i|we) do\b", r"what are my options",
                          r"what options")

# The sections that answer a question of each aspect, in tiers: a section of the first tier
# that has one, else of the next. Whom to call is often told in the steps ("How to report"),
# so for that the steps are as good as the contact section. A guide with a section for the
# place or the times states them there, and the steps only tell them where it has none
# (身份证补办要多久 is 办理时限, not the replacement steps; 拖欠工资去哪里投诉 is 投诉渠道,
# not 处理流程).
ANSWERED_BY: dict[str, tuple[tuple[str, ...], ...]] = {
    PLACE: ((PLACE,), (STEPS,)), TIME: ((TIME,), (STEPS,)), CONTACT: ((CONTACT, STEPS),),
    APPOINTMENT: ((APPOINTMENT,), (STEPS,))}


# Sentence evidence for `trim`: a sentence that carries the aspect (a sum of money, a number of
# days, an address or opening hours).
_SENTENCE_CUES: dict[str, re.Pattern[str]] = {
    FEES: _cues(r"元", r"费", r"免费", r"\brmb\b", r"\bfees?\b", r"\bfree\b", r"\bcharged?\b",
                r"\bpay\b", r"\bcosts?\b"),
    AMOUNT: _cues(r"元", r"%", r"标准", r"\brmb\b", r"\bper (?:month|year)\b"),
    TIME: _cues(r"\d+\s*(?:个)?(?:工作日|日|天|月|年|小时)", r"当场", r"即时", r"当天", r"截止",
                r"之前", r"以前", r"期限", r"\bdays?\b", r"\bweeks?\b", r"\bmonths?\b",
                r"\bwithin\b", r"\bby the\b", r"same day", r"on the spot", r"deadline"),
    PLACE: _cues(r"路\d|\d+号|大道|楼|区|窗口|大厅|中心|\d{1,2}[:：]\d{2}", r"\broad\b",
                 r"\bavenue\b", r"\bstreet\b", r"\bfloor\b", r"\bhall\b", r"\bcentre\b",
                 r"\bcenter\b", r"\d{1,2}:\d{2}"),
    CONTACT: _cues(r"电话", r"热线", r"\d{4}\s?\d{4}", r"(?<!\d)1\d{2}(?:\d{2})?(?!\d)",
                   r"hotline", r"\bphone\b", r"\bcall\b"),
}
# A passage of at most this many sentences is quoted whole.
TRIM_ABOVE_SENTENCES = 2
LIST_LINE = re.compile(r"^\s*(?:[•\-*]|\d+[.)、]|[一二三四五六七八九十]+、|\|)")
# A table row as `parsers.table_sentences` writes it: "Neighbours at night: 110.",
# "90—99周岁：每人每月300元。" — short label, colon, the row's cells, on a line of its own.
TABLE_ROW = re.compile(r"^[^:：。.!?！？\n]{1,40}(?:: |：)[^\n]+$")


def section_aspects(headings: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The aspects a section covers, from its headings below the title (the title names the
    whole document: "居住证办理指南" is not the steps)."""
    below_title = [normalize(h) for h in headings[1:]]
    found: list[str] = []
    for heading in below_title:
        claimed = False
        for aspect, cues in _HEADING_CUES:
            if aspect == STEPS and claimed:
                continue
            if cues.search(heading):
                claimed = claimed or aspect == ELIGIBILITY
                if aspect not in found:
                    found.append(aspect)
    return tuple(found)


def question_aspect(question: str) -> str | None:
    """The one thing a question asks for (Simplified, Traditional or English), or None."""
    text = normalize(question)
    for aspect, cues in _QUESTION_CUES:
        if cues.search(text):
            return aspect
    return None


def asks_replacement(question: str) -> bool:
    """Whether a question is about something lost, stolen or to be replaced."""
    return bool(_REPLACEMENT_QUESTION.search(normalize(question)))


def about_replacement(headings: tuple[str, ...] | list[str]) -> bool:
    """Whether a section's headings below the title name replacing a lost document."""
    return any(_REPLACEMENT_HEADING.search(normalize(h)) for h in headings[1:])


def tells_replacement(headings: tuple[str, ...] | list[str], text: str) -> bool:
    """Whether a passage says anything about replacing something lost, stolen or damaged."""
    return bool(_REPLACEMENT_TEXT.search(normalize(" ".join(headings[1:]) + " " + text)))


def asks_options(question: str) -> bool:
    """Whether a question asks what the citizen can do (the options, all of them)."""
    return bool(_OPTIONS_QUESTION.search(normalize(question)))


def without_cues(question: str) -> str:
    """The question with the wording of what it asks for taken out ("how long", "多少钱",
    "在哪里", "怎么办理"): what is left names its topic (`knowledge_base.lexical.QuestionTopics`).
    Normalised like the cues (`bot.text.normalize`)."""
    text = normalize(question)
    for _, cues in _QUESTION_CUES:
        text = cues.sub(" ", text)
    return text


def shows(aspect: str | None, text: str) -> bool:
    """Whether a passage's text carries the aspect in a sentence (a sum, a number of days, an
    address, a phone number): where no section is headed for it, such a passage answers."""
    cues = _SENTENCE_CUES.get(aspect or "")
    return cues is not None and bool(cues.search(normalize(text)))


def trim(text: str, aspect: str | None, language: str) -> str:
    """The sentences of a prose passage that carry `aspect` (a fee, a time, a place); the
    whole passage when it is a list or a table (steps and materials stay lists, and a table's
    rows answer together), short, or when no sentence shows the aspect."""
    from knowledge_base.chunking import split_sentences  # chunking labels chunks with this module

    cues = _SENTENCE_CUES.get(aspect or "")
    lines = text.splitlines()
    if (cues is None or any(LIST_LINE.match(line) for line in lines)
            or sum(bool(TABLE_ROW.match(line)) for line in lines) >= 2):
        return text  # a list or a table: its rows answer together (who to call, by age)
    sentences = split_sentences(text)
    if len(sentences) <= TRIM_ABOVE_SENTENCES:
        return text
    kept = [s for s in sentences if cues.search(normalize(s))]
    if not kept:
        return text
    return (" " if language == "en" else "").join(kept)
