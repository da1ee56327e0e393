"""Text between the page and the voices: what a voice should say, and what a recogniser heard.

Said aloud, "GOV-2024-000123" must be read character by character, not as "two thousand and
twenty-four"; links and list markup mean nothing to a listener. Heard, "二零二四零零零一二三" and
"G O V" must become the digits and letters the reference parser understands.
"""

from __future__ import annotations

import re

_ZH_DIGITS = "零一二三四五六七八九"
_EN_DIGITS = "zero one two three four five six seven eight nine".split()
# How Mandarin speakers say Latin letters, so a Chinese-only voice can spell "GOV".
_ZH_LETTERS = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["诶", "比", "西", "迪", "伊", "艾弗", "吉", "艾尺", "艾", "杰", "开", "艾勒", "艾姆",
     "艾恩", "欧", "批", "丘", "艾儿", "艾斯", "提", "优", "维", "达布溜", "艾克斯", "歪", "贼德"],
    strict=True,
))
_REFERENCE = re.compile(r"(?<![A-Za-z0-9])(GOV|T)-(\d{4,8})-(\d{6})(?!\d)", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"(?<!\d)(\d[\d\- ]{3,}\d)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?=年)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MARKUP = re.compile(r"[*#_`>|·•▪●]+|^\s*-\s+", re.MULTILINE)


def _spell_digits(digits: str, language: str) -> str:
    only = [char for char in digits if char.isdigit()]
    if language == "zh":
        return "".join(_ZH_DIGITS[int(char)] for char in only)
    return " ".join(_EN_DIGITS[int(char)] for char in only)


def _spell_letters(letters: str, language: str) -> str:
    if language == "zh":
        return "".join(_ZH_LETTERS.get(char, "") for char in letters.upper())
    return " ".join(letters.upper())


def spell_group(group: str, language: str) -> str:
    """One group of a reference as a voice must say it: letter by letter ("G O V", 吉欧维),
    digit by digit ("2025" is not 两千零二十五)."""
    if group.isdigit():
        return _spell_digits(group, language)
    return _spell_letters(group, language)


def _spell_reference(match: re.Match, language: str) -> str:
    separator = "，" if language == "zh" else ", "
    return separator.join([_spell_letters(match.group(1), language),
                           _spell_digits(match.group(2), language),
                           _spell_digits(match.group(3), language)])


def for_speaking(text: str, language: str) -> str:
    """`text` as a voice should read it: references and long numbers digit by digit, no links
    or markup. `language` is "zh" or "en"."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _MARKUP.sub("", text)
    text = _REFERENCE.sub(lambda m: _spell_reference(m, language), text)
    text = _LONG_DIGITS.sub(lambda m: _spell_digits(m.group(1), language), text)
    if language == "zh":
        text = _YEAR.sub(lambda m: _spell_digits(m.group(1), language), text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    stop = "。" if language == "zh" else "."
    return " ".join(line if line[-1] in "。！？；：.!?;:，," else line + stop for line in lines)


# Digits as Mandarin speakers say them in numbers: 幺 for 1 and 两 for 2, and the radio
# operators' 洞 (0), 拐 (7), 勾 (9) that some older people still use for phone numbers.
_SPOKEN_DIGIT = {**{char: str(i) for i, char in enumerate(_ZH_DIGITS)}, "〇": "0", "幺": "1",
                 "两": "2", "洞": "0", "拐": "7", "勾": "9"}
_ZH_DIGIT_CLASS = f"[{''.join(_SPOKEN_DIGIT)}]"
# Three or more spoken digits together, or four or more said one by one ("二、零、二、五").
_SPOKEN_RUN = re.compile(f"{_ZH_DIGIT_CLASS}(?:[\\s、，,]*{_ZH_DIGIT_CLASS}){{2,}}")
# A year said as a number ("两千零二十五") before the rest of a reference.
_ZH_YEAR = re.compile(f"[两二]千零?(?:([一二三四五六七八九])?(十))?([一二三四五六七八九])?"
                      f"(?=年?[\\s，,、]*(?:{_ZH_DIGIT_CLASS}|\\d){{3}})")
# Recognisers group spoken digits at random ("2025-91905-0"); said aloud, a number has none.
# "2025年 335003": the year of a reference, said as a year.
_DIGIT_GAP = re.compile(r"(?<=\d)[\s\-,，、.]+(?=\d)|(?<=\d{3})\s*[:：]\s*(?=\d{3})"
                        r"|(?<=(?<!\d)20\d{2})年[\s,，、]*(?=\d{6}(?!\d))")
# Recognisers write spelled letters in capitals; "a", "I" and "It's" are words.
_SPACED_LETTERS = re.compile(
    r"(?<![A-Za-z'’])([A-Z])[ .]+([A-Z])[ .]+([A-Z])(?![A-Za-z])\.?")
# "T, 20250611000394": a ticket reference said aloud, the T cut off by a pause.
_SPOKEN_TICKET = re.compile(r"(?<![A-Za-z])([Tt])[\s,，、.:：]+(?=20\d{12}(?!\d))")
# "double 0", "triple 3": a repeat word the recogniser wrote before a digit.
_REPEATED_DIGIT = re.compile(r"\b(double|triple)[\s\-]*(\d)", re.IGNORECASE)


def _collapse_letters(match: re.Match) -> str:
    return "".join(match.groups())


# English numbers as words, the way citizens say reference numbers: digit by digit ("three
# three five", "oh", "double three") or in pairs ("twenty twenty-five", "nineteen").
_EN_UNITS = {word: i for i, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())} | {"oh": 0, "o": 0, "nought": 0}
_EN_TENS = {word: 10 * i for i, word in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if word != "_"}
_EN_REPEAT = {"double": 2, "triple": 3}
_EN_NUMBER_WORD = "|".join(sorted([*_EN_UNITS, *_EN_TENS, *_EN_REPEAT], key=len, reverse=True))
_EN_NUMBER_RUN = re.compile(
    rf"(?<![\w'])(?:(?:{_EN_NUMBER_WORD})(?:\.?[\s,\-]+|(?=[.?!]|$))){{2,}}", re.IGNORECASE)
_EN_YEAR_TAIL = "|".join([*(f"{tens}(?:[\\s\\-]+(?:{'|'.join(list(_EN_UNITS)[1:10])}))?"
                            for tens in _EN_TENS), *list(_EN_UNITS)[1:20]])
# "two thousand and twenty-five" before more of a number: the year of a reference.
_EN_THOUSAND = re.compile(
    rf"\btwo[\s\-]+thousand(?:[\s\-]+and)?[\s\-]+({_EN_YEAR_TAIL})\b"
    rf"(?=[\s,.\-]+(?:(?:{_EN_NUMBER_WORD})\b|\d))", re.IGNORECASE)
# "gee oh vee", "G.O.V.", "g o v": the prefix of an application number, spelled.
_SPELLED_GOV = re.compile(r"(?<![a-z])(?:g|gee|ji)[\s.\-]*(?:o|oh)[\s.\-]*(?:v|vee|wei)\b\.?",
                          re.IGNORECASE)


def _number_words(match: re.Match) -> str:
    """"twenty twenty-five" → "2025", "double three five" → "335"; a lone "one" stays."""
    words = re.findall(r"[a-z]+", match.group(0).lower())
    digits, repeat, index = [], 1, 0
    while index < len(words):
        word = words[index]
        if word in _EN_REPEAT:
            repeat = _EN_REPEAT[word]
        elif word in _EN_TENS:
            unit = words[index + 1] if index + 1 < len(words) else ""
            if _EN_UNITS.get(unit, 10) < 10 and unit not in ("oh", "o", "zero"):
                digits.append(str(_EN_TENS[word] + _EN_UNITS[unit]))
                index += 1
            else:
                digits.append(str(_EN_TENS[word]))
        else:
            digits.append(str(_EN_UNITS[word]) * repeat)
            repeat = 1
        index += 1
    tail = " " if match.group(0)[-1:].isspace() else ""
    return "".join(digits) + tail


def _en_year(match: re.Match) -> str:
    """"two thousand and five" → "twenty oh five", as the digit-pair reading says it."""
    tail = match.group(1)
    return f"twenty oh {tail}" if tail.lower() in list(_EN_UNITS)[1:10] else f"twenty {tail}"


def _zh_year(match: re.Match) -> str:
    """"两千零二十五" → "2025"; "两千" alone is not a year of this century's references."""
    tens, ten, unit = match.groups()
    if not (ten or unit):
        return match.group(0)
    value = (_ZH_DIGITS.index(tens) if tens else 1 if ten else 0) * 10 \
        + (_ZH_DIGITS.index(unit) if unit else 0)
    return f"20{value:02d}"


def _spoken_digits(match: re.Match) -> str:
    """"二零二四" → "2024"; digits said one by one with pauses need four ("一、二、三" is a
    list)."""
    digits = [_SPOKEN_DIGIT[char] for char in match.group(0) if char in _SPOKEN_DIGIT]
    if len(digits) < 4 and len(digits) != len(match.group(0)):
        return match.group(0)
    return "".join(digits)


def spoken_groups(text: str) -> str:
    """What a recogniser heard with spoken digits and words as Arabic digits ("二零二四" →
    "2024", "twenty twenty-five" → "2025", "double 5" → "55") and spelled letters joined
    ("gee oh vee" → "GOV"), the groups it wrote left apart ("20, 26, 045"): how they join is
    for the reader to choose (speech.number_decoder.number_reading)."""
    text = _EN_THOUSAND.sub(_en_year, text.strip())
    text = _EN_NUMBER_RUN.sub(_number_words, text).strip()
    text = _REPEATED_DIGIT.sub(lambda m: m.group(2) * _EN_REPEAT[m.group(1).lower()], text)
    text = _SPELLED_GOV.sub("GOV", text)
    return _SPOKEN_RUN.sub(_spoken_digits, _ZH_YEAR.sub(_zh_year, text))


def from_speech(text: str) -> str:
    """What a recogniser heard, normalised: runs of three or more spoken digits become
    Arabic digits ("二零二四" → "2024"), two or more English number words too ("twenty
    twenty-five" → "2025"), digit groups join ("2025-91905-0" → "2025919050"), spelled
    letters join up ("G O V", "gee oh vee" → "GOV")."""
    text = _DIGIT_GAP.sub("", spoken_groups(text))
    text = _SPOKEN_TICKET.sub(r"\1-", text)
    return _SPACED_LETTERS.sub(_collapse_letters, text)


def spoken_digits(text: str) -> str:
    """Every digit in `text`, in order, however it was said: "是二 三 五", "two three five",
    "double five" and "2 3 5" all give their digits (a correction of one short group)."""
    single = re.sub(rf"\b(?:{_EN_NUMBER_WORD})\b", _number_words, from_speech(text),
                    flags=re.IGNORECASE)  # a lone "five" after a pause too
    return "".join(_SPOKEN_DIGIT.get(char, char) for char in single
                   if char in _SPOKEN_DIGIT or char in "0123456789")
