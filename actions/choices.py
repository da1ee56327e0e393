"""Which of a numbered list of options a citizen picked: "3", "第三个", "选2", "the second one".

A list the assistant numbers ("1. 市生态环境局 … 3. 市城市管理局") is answered by its number as
often as by a name. Only a reply that is nothing but the choice counts, so a sentence that
happens to hold a number ("等了3个星期") is never read as one.
"""

from __future__ import annotations

import re

from bot.text import normalize

_ZH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_EN = {
    "one": 1, "first": 1, "1st": 1, "two": 2, "second": 2, "2nd": 2, "three": 3, "third": 3,
    "3rd": 3, "four": 4, "fourth": 4, "4th": 4, "five": 5, "fifth": 5, "5th": 5,
}
_ZH_CHOICE = re.compile(
    r"(?:我)?(?:就)?(?:选|要|选择|是)?(?:第)?([1-9一二两三四五六七八九])(?:个|号|项|条|家)?"
    r"(?:部门)?(?:吧|啊|呀|的)?"
)
_EN_CHOICE = re.compile(
    r"(?:i(?:'ll| will)? )?(?:choose |pick |take |select |go with )?(?:the )?"
    r"(?:number |option |no |#)?([1-9]|[a-z0-9]+)(?: one)?(?: please)?"
)
_PUNCTUATION = re.compile(r"[\s。，,.!！?？、:：;；()（）\"'“”‘’]+")


def chosen_number(text: str) -> int | None:
    """The number a reply that is nothing but a choice names ("3", "第三个", "option 12"),
    whether or not the list has that many options; None for anything else."""
    folded = normalize(text or "").strip()
    if not folded or len(folded) > 40:
        return None
    bare = _PUNCTUATION.sub("", folded)
    if bare.isdigit():
        return int(bare[:6])
    zh = _ZH_CHOICE.fullmatch(bare)
    if zh:
        token = zh.group(1)
        return int(token) if token.isdigit() else _ZH[token]
    en = _EN_CHOICE.fullmatch(_PUNCTUATION.sub(" ", folded).strip())
    if en:
        token = en.group(1)
        return int(token) if token.isdigit() else _EN.get(token)
    return None


def picked_option(text: str, count: int) -> int | None:
    """The 0-based index of the option chosen among `count` numbered ones, or None."""
    number = chosen_number(text)
    return number - 1 if number and 1 <= number <= count else None


# Saying the whole thing is off, not only that the option offered is wrong: the NLU's `deny`
# holds both ("算了", "cancel" / "不是", "no, another one").
_CANCEL = re.compile(
    r"取消|算了|不用了|不用麻烦|^不用$|^不需要$|不要了|不办了|不弄了|不提交|不需要了|不想要|不想办"
    r"|放弃|撤回|撤销|作罢|别(?:弄|办|转|提交|登记)了?"
    r"|\bcancel|\bstop\b|\bquit\b|\babort\b|never ?mind|forget (?:it|about it)|no thanks?\b"
    r"|no thank you|don'?t bother|no need\b|leave it\b|not anymore|give up"
)


def cancels(text: str) -> bool:
    """Whether a reply calls the whole thing off ("算了", "取消", "never mind") rather than only
    turning down the option offered ("不是", "no, another department")."""
    return bool(_CANCEL.search(normalize(text or "")))
