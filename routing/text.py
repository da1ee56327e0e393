"""Preparing a citizen's message for the router: what a dispatcher reads, without the wrapping.

Real messages are letters: a subject line, "尊敬的领导：您好！", several sentences of narrative
with dates, place codes ("A市A3区"), masked phone numbers, and a closing ("恳请领导重视，谢谢！").
The wrapping says nothing about which department is responsible, and it is the same in every
letter, so it only dilutes the features. `clean` removes it; `segments` gives the subject and
the first sentences separately, because the sentence encoder degrades on long text and the
subject usually names the problem.
"""

from __future__ import annotations

import re

from bot.text import normalize
from common.privacy import mask_personal_data

# Longest text looked at: the first paragraphs decide the department; the rest is narrative.
MAX_BODY_CHARS = 800
# Sentences encoded per message (after the subject), and the shortest sentence kept.
MAX_SENTENCES = 6
MIN_SENTENCE_CHARS = 4
# A first line this short, followed by more text, is a subject line.
MAX_SUBJECT_CHARS = 60

_SALUTATION = re.compile(
    r"^\s*(?:(?:尊敬|敬爱|亲爱)的[^，,：:！!。\n]{0,16}[：:，,！!]?\s*"
    r"|(?:各位)?(?:领导|市长|书记|局长|主任|厅长)(?:同志|们)?(?:您好)?[：:！!]\s*"
    r"|(?:您好|你好|大家好)[！!，,。.：:]?\s*"
    r"|(?:dear|hello|hi)\b[^,:\n]{0,40}[,:]\s*|to whom it may concern[,:]?\s*"
    r"|(?:good (?:morning|afternoon|evening))[^,:\n]{0,30}[,:!.]?\s*)+",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"(?:[，,。.！!\s]*(?:此致\s*敬礼|致敬|谢谢(?:您|你们|领导)?|感谢(?:您|你们|领导)?(?:的)?(?:关注|支持|百忙之中)?"
    r"|万分感谢|不胜感激|盼复|望回复|期待(?:您的)?回复"
    r"|thank(?:s| you)(?: (?:very much|in advance|for your (?:time|help|attention)))?"
    r"|(?:yours )?(?:sincerely|faithfully|regards|best wishes)|kind regards)[！!。.,，\s]*)+$",
    re.IGNORECASE,
)
_MASKED = re.compile(r"\[(?:ID|PHONE|CARD) \*+\w{0,4}\]|\[EMAIL\]|[*＊xX×]{3,}|\d{5,}")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_DATE = re.compile(
    r"(?:\d{2,4}\s*[年/.\-]\s*)?\d{1,2}\s*[月/.\-]\s*\d{1,2}\s*[日号]?"
    r"|\d{2,4}\s*年(?:\s*\d{1,2}\s*月)?(?:初|底|中旬|上旬|下旬)?"
    r"|\d{1,2}\s*月(?:份|初|底|中旬|上旬|下旬)?"
    r"|\d{1,2}\s*[:：]\s*\d{2}"
)
# Anonymised or abbreviated place codes: "A市", "A3区", "B12县", "K8镇".
_PLACE_CODE = re.compile(r"(?<![A-Za-z])[A-Z]\d{0,3}(?=[省市区县镇乡村州街])")
# A sentence that only asks someone to act or asks whether it is allowed, naming no one and
# nothing ("I want someone to investigate.", "Is this legal?", "请有关部门尽快调查处理。"):
# every department's letters end this way, and it pulls the router towards the police.
_GENERIC_PLEA = re.compile(
    r"^(?:(?:please|pls|kindly|can|could|will)\s+(?:someone|somebody|you|the authorities)"
    r"|(?:i|we)\s+(?:want|would like|'d like|hope|ask|urge)\s+(?:someone|somebody|you"
    r"|the authorities|this|it)"
    r"|(?:is|isn't|was) (?:this|that|it) (?:legal|allowed|lawful|right|fair|normal|reasonable)"
    r"|(?:请|恳请|希望|望|盼)?(?:有关|相关|职能|主管)?(?:部门|领导)?(?:尽快|早日|及时)?"
    r"(?:调查|处理|解决|核实|查处|重视|关注|回复|答复|督促)(?:一下|处理|解决|落实)?"
    r"|这(?:样|种做法)?(?:合法|合理|正常|对)吗)"
    r"(?:[\s,，]*(?:please|thanks?|thank you|谢谢))?[\s.!?。！？]*$",
    re.IGNORECASE,
)
_GENERIC_PLEA_EN = re.compile(
    r"^(?:please\s+|pls\s+|kindly\s+|can\s+|could\s+|will\s+)?"
    r"(?:(?:i|we)\s+(?:want|would like|'d like|need|ask|hope)\s+)?"
    r"(?:someone|somebody|you|the authorities)?\s*(?:to\s+|please\s+)?"
    r"(?:investigate|look into|deal with|sort out|check|do something about|do something|help)"
    r"(?:\s+(?:it|this|that|the matter|the case|us|me|please|now|soon|quickly|urgently))*"
    r"[\s.!?]*$",
    re.IGNORECASE,
)
# A closing clause that asks what to do rather than saying what happened ("…，怎么办",
# "…，我们该去哪里投诉", "…，政策是怎么规定的", "…, what can I do?"). It names no department's
# business ("政策", "规定" pulled a polluted river towards agriculture), and a dispatcher
# reading the problem back leaves it out (the question part is answered separately, if at all).
_ASKING_CLAUSE = re.compile(
    r"^(?:请问|那|那么|现在|我们|我|你们|请)*(?:该|应该|应当|可以|能|要)?(?:怎么办|咋办|如何是好|怎么处理|如何处理"
    r"|怎么解决|如何解决|(?:去|到|向|找)(?:哪里|哪儿|哪个部门|哪个单位|谁)(?:投诉|反映|举报|解决|处理)?"
    r"|(?:政策|法律|国家)?(?:是)?(?:怎么|如何)规定的?|有(?:什么|哪些|没有)(?:规定|政策|办法)"
    r"|(?:这样|这种(?:做法|行为)?|这)?(?:是否)?(?:合法|合理|违法|正常|对)(?:吗|不)?"
    r"|有(?:没有)?人管(?:吗)?|(?:谁|哪个部门)(?:来)?管|(?:你们|政府|有关部门|相关部门)?管不管"
    # "能不能帮我投诉他", "能帮她报警吗": asks the assistant to act, says nothing of the problem
    r"|(?:能不能|能否|可不可以|可否|可以|能|请你们|请你|请|麻烦你们|麻烦你|麻烦)?(?:帮|替|给)"
    r"(?:我|我们|她|他|他们|咱们)?(?:投诉|反映|举报|报警|处理|解决|转达|上报)(?:一下)?"
    r"(?:他|她|它|他们|此事|这事|这件事)?)[吗呢啊呀]*$"
    r"|^(?:so |and |but )?(?:what (?:can|should|do) (?:i|we) do|who (?:can|should|do) (?:i|we)"
    r" (?:contact|call|complain to|talk to)|where (?:can|should|do) (?:i|we) complain"
    r"|is (?:this|that|it) (?:legal|allowed|normal|right)|what are (?:the|my) (?:rules|rights)"
    r"|(?:can|could|will|would) you (?:please )?(?:report|pass on|forward|file|handle) "
    r"(?:it|this|that)(?: for (?:me|us))?(?: please)?)"
    r"(?: about (?:this|it))?$",
    re.IGNORECASE)
_CLAUSE_PUNCTUATION = " \t!！?？。.，,；;：:…~～"
_TRAILING_END = re.compile(r"[。！？!?；;.\s]*$")


def asks_what_to_do(clause: str) -> bool:
    """Whether a clause or sentence only asks what to do, who handles it, or for the
    assistant to act ("怎么办", "你们管不管", "能不能帮我投诉他", "can you report it for me"):
    it says nothing of the problem itself."""
    return bool(_ASKING_CLAUSE.match(normalize(clause).strip(_CLAUSE_PUNCTUATION)))


def without_asking_clauses(sentence: str) -> str:
    """The sentence without its closing clauses that ask what to do, when something remains;
    its closing punctuation is kept."""
    end = _TRAILING_END.search(sentence).group(0)
    body = sentence[:len(sentence) - len(end)] if end else sentence
    cut_any = False
    while (cut := max(body.rfind("，"), body.rfind(","))) > 0 and asks_what_to_do(
            body[cut + 1:]):
        body, cut_any = body[:cut].rstrip(_CLAUSE_PUNCTUATION), True
    return body + end if cut_any else sentence


_SPACES = re.compile(r"[ \t\u3000]+")
# Where one sentence ends and the next begins, keeping every character on one side or the other.
_SENTENCE_EDGE = re.compile(r"(?<=[。！？!?；;])|(?<=\.)(?=\s)")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=\.)\s+")


def clean(text: str) -> str:
    """The message without salutation, closing formula, masked numbers, dates, URLs or
    anonymised place codes; personal data is masked first so nothing personal survives."""
    text = mask_personal_data(text or "")
    text = _URL.sub(" ", text)
    text = _MASKED.sub(" ", text)
    text = _DATE.sub(" ", text)
    text = _PLACE_CODE.sub("", text)
    lines = ["".join(map(without_asking_clauses, _SENTENCE_EDGE.split(_strip_wrapping(line))))
             for line in text.splitlines()]
    return "\n".join(_SPACES.sub(" ", line).strip() for line in lines if line.strip()).strip()


def _strip_wrapping(line: str) -> str:
    line = _SALUTATION.sub("", line)
    return _CLOSING.sub("", line)


def split_subject(text: str) -> tuple[str, str]:
    """(subject, body): the first line when it is short and more follows, else ("", text)."""
    first, _, rest = text.partition("\n")
    if rest.strip() and len(first) <= MAX_SUBJECT_CHARS:
        return first.strip(), rest.strip()
    return "", text.strip()


def sentences(text: str) -> list[str]:
    parts = (part.strip(" ，,、") for part in _SENTENCE_END.split(text))
    return [part for part in parts if len(part) >= MIN_SENTENCE_CHARS and not is_generic_plea(part)]


def is_generic_plea(sentence: str) -> bool:
    """A sentence that asks for action or judgement without naming what or who."""
    return bool(_GENERIC_PLEA.match(sentence) or _GENERIC_PLEA_EN.match(sentence))


def segments(text: str) -> tuple[str, list[str]]:
    """The cleaned subject (may be empty) and the first sentences of the cleaned body."""
    subject, body = split_subject(clean(text))
    return subject, sentences(body[:MAX_BODY_CHARS])[:MAX_SENTENCES]


def for_ngrams(text: str) -> str:
    """Cleaned text for the character n-grams: the subject counted twice (it names the
    problem), then the start of the body."""
    subject, body = split_subject(clean(text))
    return " ".join(part for part in (subject, subject, body[:MAX_BODY_CHARS]) if part)
