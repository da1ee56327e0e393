"""Public-service words Whisper base mishears as homophones (公积金 → 公鸡金, 营业执照 →
营业职账), put back by sound. The vocabulary is the one the bot's Chinese tokenizer uses
(bot/jieba_dict.txt), so it stays in one place; nothing is given to the decoder, so nothing can
leak into a transcript.

A run of the transcript is replaced when it sounds like a term (toneless pinyin): exactly for
three-character terms, with one syllable different for longer ones. Two-character terms are
left alone: too many everyday words share their sound (一包 / 医保).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

VOCABULARY = Path(__file__).resolve().parent.parent / "bot" / "jieba_dict.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def _syllables(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.NORMAL))


@lru_cache(maxsize=1)
def _terms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not VOCABULARY.is_file():
        return ()
    words = {line.split()[0] for line in VOCABULARY.read_text(encoding="utf-8").splitlines()
             if line.strip() and _HAN.fullmatch(line.split()[0])}
    longest_first = sorted((word for word in words if len(word) >= 3), key=len, reverse=True)
    return tuple((word, _syllables(word)) for word in longest_first)


def _sounds_like(heard: tuple[str, ...], term: tuple[str, ...]) -> bool:
    different = sum(a != b for a, b in zip(heard, term, strict=True))
    return different == 0 or (len(term) >= 4 and different == 1)


def _restore_run(run: str) -> str:
    chars, syllables = list(run), list(_syllables(run))
    if len(syllables) != len(chars):  # pypinyin kept something as one piece: leave it
        return run
    for term, sound in _terms():
        size = len(term)
        start = 0
        while start + size <= len(chars):
            window = "".join(chars[start:start + size])
            if window != term and _sounds_like(tuple(syllables[start:start + size]), sound) \
                    and sum(a == b for a, b in zip(window, term, strict=True)) >= size // 2:
                chars[start:start + size] = list(term)
                start += size
            else:
                start += 1
    return "".join(chars)


def restore_domain_words(text: str) -> str:
    """`text` (Simplified Chinese) with misheard public-service terms put back."""
    return _HAN.sub(lambda match: _restore_run(match.group(0)), text)
