"""Danger now: what a 12345 dispatcher says before anything else.

A ticket reaches its department within working days. Someone reporting a fire, a gas leak, a
missing manhole cover, an injury or a crime in progress (a scam just suffered included) must
first be told to call the emergency numbers, as a dispatcher would; the request is still read
back and filed as usual. Cues are matched on `bot.text.normalize`d text (Traditional folded to
Simplified, lower case).
"""

from __future__ import annotations

import re

from bot.text import normalize

_DANGER = re.compile(
    r"着火|起火|失火|火灾(?!隐患|风险|防控|预防|防范)|燃气泄漏|煤气泄漏|天然气泄漏|漏气|煤气味|燃气味|天然气味"
    r"|井盖[^，。！？]{0,10}?(?:丢|没了|没有了|缺失|被偷|不见|掉)|没(?:有)?井盖"
    r"|电线(?:掉|垂|断|落)|漏电|触电"
    r"|(?:房子|楼|墙|桥|路面)[^，。！？]{0,4}(?:塌|倒塌)|塌陷|有人(?:受伤|晕倒|落水|溺水|被困)|昏迷"
    r"|家暴|打人|持刀|抢劫|正在(?:偷|抢|打|砸)|诈骗|被[^，。！？]{0,4}骗|骗了|骗走|威胁要|跳楼|轻生|自杀"
    r"|流血|出血|摔伤|头破|(?:电箱|电表箱|配电箱|电闸|电线|插座|开关)[^，。！？]{0,6}(?:冒烟|冒火|着火|火花)"
    r"|\bon fire\b|\bcaught fire\b|fire broke out|\bis burning\b"
    r"|gas leak|smell(?:s|ing)? (?:of )?gas|manhole[^.!?]{0,50}?\b(?:missing|gone|open|stolen)"
    r"|missing manhole|live wire|power lines? (?:is |are )?down"
    r"|electrocut|collaps|\binjured\b|\bbleeding\b|unconscious|\btrapped\b|drowning"
    r"|(?:smoke|sparks?) (?:is |are )?(?:coming )?(?:out of|from) (?:the |an? |our )?"
    r"(?:electric(?:al)?|power|fuse|meter|socket|wiring)"
    r"|domestic violence|\bassault|\battacked\b|\brobbed\b|\brobbery\b|\bscam(?:med)?\b"
    r"|\bfraud\b|defrauded|threaten(?:ed|ing) to|suicide|kill (?:myself|himself|herself)",
)


def is_urgent(text: str) -> bool:
    """Whether a request tells of danger now (or a crime just suffered): call the emergency
    numbers first."""
    return bool(_DANGER.search(normalize(text or "")))
