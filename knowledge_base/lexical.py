"""BM25 over chunks, with jieba for Chinese and plain words for English.

Lexical matching is what dense vectors miss: exact names, numbers, rare terms ("高龄津贴",
"Form B-3"). It only ever matches text in the query's own language, so it is fused with the
dense score as a bounded bonus, never as a rank of its own (see `search.py`).

Text is folded (NFKC, lower case, Traditional → Simplified, `bot.text.normalize`) before jieba
cuts it, for the index and the query alike, so 護照 finds 护照.

Two scores per chunk: BM25 (`scores`, which candidates to look at), and the share of the
question's distinct terms a chunk contains, each weighted by its inverse document frequency
(`coverage`, in [0, 1]): what the fusion rewards. Unlike BM25 relative to the best chunk, it
is absolute — a chunk with half of the question's rare words scores 0.5 whether or not another
chunk has more — and it does not favour long chunks, nor grow with the length of the question.
"""

from __future__ import annotations

import math
import re

import numpy as np

from bot.segmentation import segmenter
from bot.text import normalize

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_STOP = frozenset(
    "the a an of to in for and or is are be do does i my me how what can you your it on with "
    "的 了 吗 呢 啊 吧 是 我 你 要 怎么 什么 可以 如何 请问".split()
)


def tokenize(text: str) -> list[str]:
    jieba = segmenter()
    tokens: list[str] = []
    for piece in _WORD.findall(normalize(text)):
        if piece[0].isascii():
            tokens.append(piece)
        else:
            tokens.extend(word for word in jieba.cut(piece) if word.strip())
    return [token for token in tokens if token not in _STOP]


def _pieces(term: str) -> list[str]:
    """A Chinese term's smaller words (jieba's search cut); none for other terms."""
    if term.isascii():
        return []
    return [piece for piece in segmenter().cut_for_search(term) if len(piece) < len(term)]


def _parts(term: str, known, pieces: list[str] | None = None) -> set[str]:
    """The smaller words of a term (`_pieces`) that are in `known`, when together they spell
    every character of it; else none."""
    parts = {piece for piece in (_pieces(term) if pieces is None else pieces) if piece in known}
    return parts if parts and not set(term) - set("".join(parts)) else set()


def spelled_by(term: str, words: set[str]) -> bool:
    """Whether `words` hold a term whole, or for a Chinese term as smaller words that spell it
    (出生证明 in 出生 / 医学 / 证明)."""
    return term in words or bool(_parts(term, words))


def _thread_lock_for_progress_bars() -> None:
    """bm25s creates tqdm bars, whose default lock is a multiprocessing lock; creating one fixes
    the process's start method to "fork", after which the action server (Sanic) refuses to start.
    """
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


class LexicalIndex:
    def __init__(self, texts: list[str], titles: list[str] | None = None) -> None:
        """`texts`: what each chunk is searched by; `titles`: each chunk's document title
        (for `title_coverage`)."""
        import bm25s

        _thread_lock_for_progress_bars()
        self._size = len(texts)
        distinct = sorted(set(titles or ()))
        self._title_words = [set(tokenize(title)) for title in distinct]
        self._titles_with: dict[str, list[int]] = {}
        for n, words in enumerate(self._title_words):
            for word in words:
                self._titles_with.setdefault(word, []).append(n)
        number = {title: n for n, title in enumerate(distinct)}
        self._title_of = np.array([number[title] for title in titles or ()], dtype=np.int64)
        self._retriever = bm25s.BM25()
        corpus = [tokenize(text) or ["\u2205"] for text in texts]
        self._retriever.index(corpus, show_progress=False)

    def _holding(self, token: int | None) -> np.ndarray:
        """The chunks that contain a vocabulary token (none for None), from BM25's CSC matrix."""
        matrix = self._retriever.scores  # per term, the chunks that contain it (CSC)
        indptr, indices = matrix["indptr"], matrix["indices"]
        return indices[:0] if token is None else indices[indptr[token]:indptr[token + 1]]

    def _idf(self, frequency: int) -> float:
        """BM25's inverse document frequency of a term found in `frequency` chunks."""
        return math.log(1.0 + (self._size - frequency + 0.5) / (frequency + 0.5))

    def coverage(self, query: str) -> np.ndarray:
        """For every chunk, in chunk order, the idf-weighted share of the query's distinct terms
        it contains (terms found nowhere count in the whole, so they lower every chunk's)."""
        terms = set(tokenize(query))
        covered = np.zeros(self._size, dtype=np.float32)
        if not terms or self._size == 0:
            return covered
        vocabulary = self._retriever.vocab_dict
        total = 0.0
        for term in terms:
            chunks = self._holding(vocabulary.get(term))
            if not term.isascii():
                chunks = np.union1d(chunks, self._compound(term))
            weight = self._idf(len(chunks))
            covered[chunks] += weight
            total += weight
        return covered / total

    def _weight(self, term: str) -> float:
        """A term's inverse document frequency over the chunks that hold it whole (unlike
        `coverage`, which also counts the chunks holding a Chinese term in parts)."""
        return self._idf(len(self._holding(self._retriever.vocab_dict.get(term))))

    def title_coverage(self, query: str) -> np.ndarray:
        """For every chunk, the idf-weighted share of the query's distinct terms in its
        document's title — whole, or for a Chinese term as smaller words that spell it (出生证明
        in 出生医学证明…办理指南). A passage that mentions the question's key term in passing
        (the household guide's newborn section lists the birth certificate among its
        materials) covers it as well as the guide about it; the title says which is about it."""
        terms = set(tokenize(query))
        if not terms or not self._title_words or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        weights = {term: self._weight(term) for term in terms}
        total = sum(weights.values())
        shares = np.zeros(len(self._title_words), dtype=np.float32)
        for term, weight in weights.items():
            pieces = _pieces(term)  # one jieba cut per term, not per title
            titles = set(self._titles_with.get(term, ()))
            for piece in pieces:
                titles |= {n for n in self._titles_with.get(piece, ())
                           if _parts(term, self._title_words[n], pieces)}
            shares[sorted(titles)] += weight
        return (shares / total)[self._title_of]

    def _compound(self, term: str) -> np.ndarray:
        """The chunks that hold a Chinese term in parts: jieba cuts a question's 出生证明 as one
        word, and a guide titled 出生医学证明 as 出生 / 医学 / 证明, so the question's key term
        matched only the few passages that spell it whole. A term whose smaller words (jieba's
        search cut) are all indexed and together spell every character of it counts as found
        in the chunks that contain all of them (none when no such cut exists)."""
        vocabulary = self._retriever.vocab_dict
        nothing = self._holding(None)
        parts = _parts(term, vocabulary)
        if not parts:
            return nothing
        found = None
        for part in parts:
            holding = set(self._holding(vocabulary[part]).tolist())
            found = holding if found is None else found & holding
        return np.array(sorted(found or ()), dtype=nothing.dtype)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in chunk order (zeros when nothing matches)."""
        tokens = tokenize(query)
        if not tokens or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
