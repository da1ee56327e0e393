"""How a spoken conversation differs from a typed one, as pure functions the voice channel uses.

Elderly listeners cannot scroll back: replies are cut to their first sentences with an offer to
hear more; what was heard is confirmed before the assistant acts on it; "再说一遍" repeats; a
short "是" or "不是" answers the question just asked. The page keeps the pending question (what
to confirm, what is left to say), so any Rasa instance can take the next turn.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from actions.references import parse_reference, parse_verification_digits
from channels.rendering import as_plain_text
from speech.spoken_text import spell_group, spoken_digits

# Intents that make the assistant do something for the citizen: confirm them first.
CONFIRM_PROMPTS = {
    "check_application_status": ("您是想查询申请进度吗？", "Do you want to check an application?"),
    "make_request": ("您是想向政府部门反映问题或提出诉求吗？",
                     "Do you want to report a problem or make a request to a department?"),
    "human_handoff": ("您是想找人工服务吗？", "Do you want to talk to a person?"),
}
# Form slots whose answer is a number said aloud: recognised digit by digit.
NUMBER_SLOTS = {"reference_number", "verification_code"}
PHRASES = {
    "heard": ("我听到的是：“{}”。", "I heard: “{}”."),
    "say_yes_no": ("请说“是”或“不是”。", "Please say yes or no."),
    "yes_no_again": ("没有听清楚。请再说一遍“是”或“不是”，也可以点屏幕上的按钮。",
                     "Sorry, I didn't catch that. Please say yes or no again, or tap a button."),
    "more": ("要继续听吗？", "Would you like to hear more?"),
    "say_again": ("好的，请再说一遍您要办的事。", "All right, please say again what you need."),
    "number_again": ("好的，请再说一遍号码，一位一位慢慢说。",
                     "All right, please say the number again, one digit at a time."),
    "is_that_right": ("对吗？", "Is that right?"),
    "anything_else": ("好的。还有什么可以帮您？", "All right. What else can I help you with?"),
    "options": ("您可以说：", "You can say: "),
    "passed_on": ("您的话已经转给工作人员，请稍候。", "Your message has been passed to a member of "
                  "staff; please wait."),
    "or": ("，或者", ", or "),
    "heard_number": ("我听到的号码是：{}。", "I heard the number: {}."),
    "group_again": ("第{}段是{}位数字，请一位一位再说一遍，例如“第{}段是三三五”。",
                    "Part {} has {} digits: please say it again, one digit at a time."),
    "fix_group": ("请说“是”或“不是”；哪一段不对，只说那一段就行，例如“最后一段是二三五”。",
                  "Say yes or no; if one part is wrong, say just that part, for example "
                  "“the last part is 2 3 5”."),
    "fix_group_spoken": ("哪一段不对，只说那一段就行。",
                         "If one part is wrong, just say that part."),
}
_YES = {"是", "是的", "对", "对的", "好", "好的", "嗯", "可以", "要", "行", "没错", "对啊", "是啊",
        "好啊", "要的", "对呀", "是呀", "好吧", "嗯嗯", "是的是的", "继续", "接着说", "还有呢",
        "yes", "yeah", "yep", "sure", "ok", "okay", "right", "correct", "please", "yes please",
        "go on", "continue", "more", "tell me more"}
_NO = {"不", "不是", "不是的", "不对的", "不要了", "不对", "不要", "不用", "没有", "不用了", "错了",
       "算了", "no", "nope", "not really", "no thanks", "no thank you", "wrong", "that's wrong",
       "stop"}
_REPEAT = ("再说一遍", "再说一次", "再讲一遍", "再讲一次", "重复", "没听清", "没听见", "没听到",
           "repeat", "say that again", "say it again", "pardon", "didn't catch", "come again")
# One-word Mandarin answers are where recognisers slip to a homophone (是的 → 是等, 对的 →
# 对等): short answers are also compared by sound (toneless pinyin).
_YES_SOUNDS = (("shi",), ("dui",), ("hao",), ("ke", "yi"), ("xing",), ("en",), ("mei", "cuo"))
_NO_SOUNDS = (("bu", "shi"), ("bu", "dui"), ("bu", "yao"), ("bu", "yong"), ("mei", "you"),
              ("suan", "le"))
_SENTENCE = re.compile(r"(?<=[。！？!?])\s*|(?<=[.])\s+|\n+")
SPOKEN_SENTENCES = 2


def phrase(key: str, language: str) -> str:
    zh, en = PHRASES[key]
    return zh if language == "zh" else en


def _bare(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip()


def _sounds_like(text: str) -> str | None:
    """"yes" / "no" for a Mandarin answer of at most three characters, by sound."""
    han = re.sub(r"[^\u4e00-\u9fff]", "", text)
    if not 0 < len(han) <= 3 or len(han) != len(re.sub(r"[\s\W_]", "", text)):
        return None
    from pypinyin import Style, lazy_pinyin

    syllables = tuple(lazy_pinyin(han, style=Style.NORMAL))
    for label, sounds in (("no", _NO_SOUNDS), ("yes", _YES_SOUNDS)):
        if any(syllables[:len(sound)] == sound for sound in sounds):
            return label
    return None


def classify_answer(text: str) -> str | None:
    """"yes", "no" or "repeat" for a short spoken answer; None for anything else."""
    bare = _bare(text)
    if any(marker in bare for marker in _REPEAT) and len(bare) <= 24:
        return "repeat"
    for label, words in (("no", _NO), ("yes", _YES)):
        if bare in words or bare.replace(" ", "") in words:
            return label
        # "是的，查进度", "yes that's right": a yes/no word leading a short answer.
        if len(bare) <= 16 and any(bare.startswith(word + " ") for word in words):
            return label
    return _sounds_like(text)


@dataclass(frozen=True)
class Spoken:
    """What to say now, and what is left for "more"."""

    say: str
    rest: str


def shorten(text: str, language: str, sentences: int = SPOKEN_SENTENCES) -> Spoken:
    """The first `sentences` sentences, with an offer to hear the rest if there is any."""
    parts = [part.strip() for part in _SENTENCE.split(text) if part and part.strip()]
    head, tail = parts[:sentences], parts[sentences:]
    joiner = "" if language == "zh" else " "
    if not tail:
        return Spoken(joiner.join(head), "")
    return Spoken(joiner.join([*head, phrase("more", language)]), joiner.join(tail))


def spoken_options(buttons: list[dict[str, Any]], language: str) -> str:
    """Buttons read out as the things the citizen can say."""
    titles = [button.get("title", "").strip() for button in buttons if button.get("title")]
    if not titles:
        return ""
    listed = titles[-1]
    if len(titles) > 1:
        listed = ("、" if language == "zh" else ", ").join(titles[:-1]) \
            + phrase("or", language) + titles[-1]
    return phrase("options", language) + listed + ("。" if language == "zh" else ".")


def confirmation(heard: str, intent: str | None, language: str) -> str:
    """"I heard: …" and the question to confirm: the intent's, or "is that right?" for a
    number (which the voice then reads digit by digit)."""
    joiner = "" if language == "zh" else " "
    quoted = heard.strip().rstrip("。.!?！？")
    question = CONFIRM_PROMPTS[intent][0 if language == "zh" else 1] if intent \
        else phrase("is_that_right", language)
    return joiner.join([phrase("heard", language).format(quoted), question,
                        phrase("say_yes_no", language)])


# A reference read back in groups short enough to check by ear: "GOV, 2025, 335, 003".
GROUP_DIGITS = 3
# Slower than the voice's usual pace: an elderly caller checks every digit.
NUMBER_RATE = 0.65
_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "1": 1, "2": 2, "3": 3,
             "4": 4, "5": 5, "6": 6, "first": 1, "second": 2, "third": 3, "fourth": 4,
             "fifth": 5, "sixth": 6, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
             "six": 6, "最后": -1, "last": -1, "final": -1}
# "第三组", "第二段", "最后一段", "后三位", "the second part", "part two", "the last three
# digits": which group the caller corrects. A count of digits ("三位", "three digits") is part
# of the name, not of the new digits.
_ZH_COUNT = r"(?:\s*[一二两三四五六1-6]\s*位(?:数字?)?)?"
_EN_COUNT = r"(?:\s+(?:three|four|six|[346]))?"
_WHICH_GROUP = re.compile(
    rf"第\s*([一二两三四五六1-6])\s*(?:组|段|部分|节){_ZH_COUNT}"
    rf"|(最后)\s*(?:一\s*)?(?:组|段|部分|节)?{_ZH_COUNT}|后\s*[一二两三四五六1-6]\s*位(?:数字?)?"
    rf"|\b(first|second|third|fourth|fifth|sixth|last|final)\s+(?:group|part|bit|section|block|one)"
    rf"|\b(last|final){_EN_COUNT}\s+(?:digits|numbers)"
    rf"|\b(?:group|part)\s+(one|two|three|four|five|six|[1-6])\b", re.IGNORECASE)


def number_heard(text: str, slot: str | None = None) -> str | None:
    """What the form asked for, found in `text` and written canonically: a reference
    ("GOV-2025-335003") for `reference_number`, four digits for `verification_code`."""
    if slot == "verification_code":
        return parse_verification_digits(text)
    return parse_reference(text) or _reference_across_sentences(text)


# Longest digit run a reference has (a ticket: 8 + 6).
_REFERENCE_DIGITS = 14


def _reference_across_sentences(text: str) -> str | None:
    """A reference the recogniser cut into sentences ("2025。364。032。"), or heard after a
    prefix it took for digits ("768。2026。303421", from "G O V"): the first run of adjacent
    digit groups that together make exactly one reference."""
    groups = re.findall(r"\d+", unicodedata.normalize("NFKC", text))
    for start in range(len(groups)):
        joined = ""
        for group in groups[start:]:
            joined += group
            if len(joined) > _REFERENCE_DIGITS:
                break
            found = parse_reference(joined)
            if found and len(joined) in (10, _REFERENCE_DIGITS):
                return found
    return None


def number_groups(number: str) -> list[str]:
    """"GOV-2025-335003" → ["GOV", "2025", "335", "003"]: the prefix, the year, then the rest
    in threes (four digits stay one group)."""
    groups: list[str] = []
    for part in number.split("-"):
        size = 4 if len(part) % 4 == 0 else GROUP_DIGITS  # a date: 2025, 0611
        if part.isdigit() and len(part) > 4:
            groups += [part[i:i + size] for i in range(0, len(part), size)]
        else:
            groups.append(part)
    return groups


_ZH_DIGITS = "零一二三四五六七八九"


def number_readback(number: str, language: str, spoken: bool = False) -> str:
    """The number in groups, "is that right?", and how to fix one group. `spoken`: what the
    voice says, shorter ("G O V, two zero two five, …. Is that right? If one part is wrong,
    just say that part."), every letter and digit spelled out."""
    separator = "，" if language == "zh" else ", "
    joiner = "" if language == "zh" else " "
    groups = number_groups(number)
    several = len(groups) > 1
    if spoken:
        said = separator.join(spell_group(group, language) for group in groups)
        return joiner.join([said + ("。" if language == "zh" else "."),
                            phrase("is_that_right", language),
                            phrase("fix_group_spoken" if several else "say_yes_no", language)])
    parts = [phrase("heard_number", language).format(separator.join(groups)),
             phrase("is_that_right", language),
             phrase("fix_group" if several else "say_yes_no", language)]
    return joiner.join(parts)


def _named_group(number: str, said: str) -> tuple[int, list[str], str] | None:
    """(0-based group, the number's groups, what follows the name) if `said` names a digit
    group of `number` ("the last part" is the last digit group)."""
    which = _WHICH_GROUP.search(said)
    if not which:
        return None
    name = next((group for group in which.groups() if group), "最后").lower()
    groups = number_groups(number)
    index = _ORDINALS[name] - 1 if _ORDINALS[name] > 0 else len(groups) - 1
    if not 0 <= index < len(groups) or not groups[index].isdigit():
        return None
    return index, groups, said[which.end():]


def group_named(number: str, said: str) -> tuple[int, int] | None:
    """(1-based group, its digit count) if `said` names a digit group of `number`."""
    named = _named_group(number, said)
    return None if named is None else (named[0] + 1, len(named[1][named[0]]))


def group_again(index: int, digits: int, language: str) -> str:
    """Asked again for one group whose digits did not fit."""
    if language == "zh":
        ordinal = _ZH_DIGITS[index]
        return phrase("group_again", language).format(ordinal, _ZH_DIGITS[digits], ordinal)
    return phrase("group_again", language).format(index, digits)


def corrected_number(number: str, said: str) -> str | None:
    """`number` with one group replaced, if `said` names a group and gives as many digits as
    it has ("第三组是三三六", "最后一段是二三五", "the last part is 2 3 5"); None otherwise."""
    named = _named_group(number, said)
    if named is None:
        return None
    index, groups, rest = named
    digits = spoken_digits(rest)
    if len(digits) != len(groups[index]):
        return None
    groups[index] = digits
    rebuilt, position = [], 0
    for part in number.split("-"):  # the groups back into the number's own parts
        taken = len(number_groups(part))
        rebuilt.append("".join(groups[position:position + taken]))
        position += taken
    return "-".join(rebuilt)


def bot_texts_after(events: Any, after: float) -> list[str]:
    """Texts the assistant (or staff through it) sent after time `after`."""
    return [event.text for event in events
            if getattr(event, "type_name", "") == "bot" and event.timestamp > after
            and getattr(event, "text", None)]


def reply_text(messages: list[dict[str, Any]], language: str) -> tuple[str, list[dict]]:
    """The bot's messages as one text to show, and every button offered."""
    text_only = [{**message, "buttons": None} for message in messages]
    buttons = [button for message in messages for button in message.get("buttons") or []]
    return as_plain_text(text_only, language), buttons
