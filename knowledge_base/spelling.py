"""English words a citizen mistyped, put back before the knowledge base is searched.

"wat do i need for marrige registration" was declined and "how long dose it take to get a
pasport" found the passport guide only by luck: a misspelt word matches no passage's words,
and the sentence encoder reads it as a different word. Chinese has its own repair, by sound
(`common.domain_words`); this one is by spelling.

A word is left alone when it is a word: one of the index's own English words (its domain
terms: "hukou", "dibao", "Jiaoguan") or of an English word-frequency list (pyspellchecker's,
MIT; read as data, offline). Otherwise it becomes the index word one edit away (a letter
dropped, added, changed or two swapped) that most passages hold, else the commonest English
word one edit away, else, for a long word, the index word two edits away. Short words (too
many neighbours one edit away), names written with a capital inside a sentence (a street, a
company) and acronyms are never changed.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Shorter words are left alone: "mum", "bus" and "fee" each have dozens of words one edit away.
MIN_LENGTH = 4
# From this length a word two edits away from an index word is also put back ("registartion").
TWO_EDITS_FROM = 8


@lru_cache(maxsize=1)
def english_words() -> Mapping[str, int]:
    """An English word-frequency list (lower case), shipped inside the pyspellchecker package."""
    import spellchecker

    path = Path(spellchecker.__file__).resolve().parent / "resources" / "en.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as data:
        return json.load(data)


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


class SpellingRepair:
    """Puts back the mistyped English words of a question, against an index's own words."""

    def __init__(self, index_words: Mapping[str, int]) -> None:
        """`index_words`: the index's English words, each with how many passages hold it."""
        self.index_words = dict(index_words)

    def word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < MIN_LENGTH or self._known(lower):
            return word
        meant = self._meant(lower)
        if meant == lower:
            return word
        return meant.capitalize() if word[0].isupper() else meant

    def _known(self, lower: str) -> bool:
        """A word of the index or of English, or a contraction typed without its apostrophe
        ("hasnt", "theyre")."""
        words = english_words()
        return (lower in self.index_words or lower in words
                or any(f"{lower[:i]}'{lower[i:]}" in words for i in range(1, len(lower))))

    def _meant(self, lower: str) -> str:
        near = _one_edit(lower)
        for found, counts in ((near & self.index_words.keys(), self.index_words),
                              (near & english_words().keys(), english_words())):
            if found:
                return max(sorted(found), key=counts.__getitem__)
        if len(lower) >= TWO_EDITS_FROM:
            further = {two for one in near for two in _one_edit(one)} & self.index_words.keys()
            if further:
                return max(sorted(further), key=self.index_words.__getitem__)
        return lower

    def repair(self, text: str) -> str:
        """The text with each mistyped word put back; everything else as it was."""
        def put_back(match: re.Match[str]) -> str:
            word = match.group()
            before = text[:match.start()].rstrip()
            a_name = word[0].isupper() and before and before[-1] not in ".!?。！？"
            if (word.isupper() and len(word) > 1) or a_name:
                return word
            return self.word(word)

        return _WORD.sub(put_back, text)


def index_words(words: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The alphabetic English words among an index's terms, with their passage counts."""
    return {word: count for word, count in words if word.isascii() and word.isalpha()}
