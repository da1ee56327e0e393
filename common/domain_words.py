"""Public-service words misheard or mistyped as homophones, put back by sound: Whisper base hears
公积金 as 公鸡金 and 营业执照 as 营业职账; a citizen typing with a pinyin input method picks
居住正 for 居住证 or 社宝卡 for 社保卡. The vocabulary is the one the bot's Chinese tokenizer uses
(bot/jieba_dict.txt), so it stays in one place; nothing is given to the decoder, so nothing can
leak into a transcript.

A run of the transcript is replaced when it sounds like a term (toneless pinyin): exactly for
three-character terms, with one syllable different for longer ones (then sharing at least half
of its characters), or with one syllable only a sound off (same initial, one letter of the final:
攻击间 gong-ji-jian → 公积金 gong-ji-jin). Two-character terms are left alone: too many everyday
words share their sound (一包 / 医保). Typed text (`typed=True`, for searches) only gets the
first two: a pinyin input method gives the right sound with the wrong character, so a term that
shares no character with the text was not meant.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

VOCABULARY = Path(__file__).resolve().parent.parent / "bot" / "jieba_dict.txt"
# What citizens ask the voice service to do, and documents they name, beyond the tokenizer's
# terms (查循申请进度 was heard for 查询申请进度).
SPOKEN_TERMS = ("查询申请进度", "申请进度", "办理进度", "居住证", "转人工", "人工服务",
                "工作人员", "社保卡", "医保卡", "残疾证", "驾驶证", "户口本", "出生证明",
                "老年卡", "最低生活保障", "养老保险", "医疗保险", "高龄补贴")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def _syllables(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.NORMAL))


@lru_cache(maxsize=1)
def _terms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    lines = VOCABULARY.read_text(encoding="utf-8").splitlines() if VOCABULARY.is_file() else []
    words = {line.split()[0] for line in lines
             if line.strip() and _HAN.fullmatch(line.split()[0])} | set(SPOKEN_TERMS)
    longest_first = sorted((word for word in words if len(word) >= 3), key=len, reverse=True)
    return tuple((word, _syllables(word)) for word in longest_first)


def _sounds_like(heard: tuple[str, ...], term: tuple[str, ...], tolerance: int) -> bool:
    different = sum(a != b for a, b in zip(heard, term, strict=True))
    return different == 0 or (len(term) >= 4 and different <= tolerance)


def _a_sound_off(heard: str, meant: str) -> bool:
    """Same initial, and the finals one letter apart (jian / jin, zheng / zhen)."""
    if heard[:1] != meant[:1] or abs(len(heard) - len(meant)) > 1 or heard == meant:
        return False
    if len(heard) == len(meant):
        return sum(a != b for a, b in zip(heard, meant, strict=True)) == 1
    longer, shorter = (heard, meant) if len(heard) > len(meant) else (meant, heard)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def _nearly_sounds_like(heard: tuple[str, ...], term: tuple[str, ...]) -> bool:
    """All syllables the same but one, and that one only a sound off."""
    different = [(a, b) for a, b in zip(heard, term, strict=True) if a != b]
    return len(different) == 1 and _a_sound_off(*different[0])


def _restore_run(run: str, typed: bool = False) -> str:
    chars, syllables = list(run), list(_syllables(run))
    if len(syllables) != len(chars):  # pypinyin kept something as one piece: leave it
        return run
    known = {term for term, _ in _terms()}

    def same_sound(tolerance: int) -> Callable[[str, str, tuple[str, ...], tuple[str, ...]], bool]:
        return lambda window, term, heard, sound: (
            _sounds_like(heard, sound, tolerance)
            and sum(a == b for a, b in zip(window, term, strict=True)) >= len(term) // 2)

    # same-sounding terms first, then one syllable off, last one syllable a sound off
    passes = [same_sound(0), same_sound(1)]
    if not typed:
        passes.append(lambda window, term, heard, sound: _nearly_sounds_like(heard, sound))
    present = set(run)
    for matches in passes:
        for term, sound in _terms():
            if typed and len(present.intersection(term)) < len(term) // 2:
                continue  # cannot share half its characters with any window
            size, start = len(term), 0
            while start + size <= len(chars):
                window = "".join(chars[start:start + size])
                if window not in known and matches(
                        window, term, tuple(syllables[start:start + size]), sound):
                    chars[start:start + size] = list(term)
                    start += size
                else:
                    start += 1
    return "".join(chars)


def restore_domain_words(text: str, typed: bool = False) -> str:
    """`text` (Chinese) with misheard (or, `typed`, mistyped) public-service terms put back."""
    return _HAN.sub(lambda match: _restore_run(match.group(0), typed), text)
