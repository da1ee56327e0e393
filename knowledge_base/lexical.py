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
_HAN = re.compile(r"[\u3400-\u9fff]+")
# Words that carry no topic: function words, and the lead-ins and courtesies citizens put around
# a question ("我想问一下，…", "Could you tell me …"). Left in, each is a rare term that passages
# lack, which pulls down the idf-weighted coverage of the passage that does answer.
_STOP = frozenset(
    "the a an of to in for and or is are was were be been am do does did i i'm i'd my me we our "
    "us he she his her they their them it its this that these those there here how what which "
    "who whom when where why can could would should will shall may might must you your yours on "
    "with at by from about as if so than then any some have has had get got please hi hello "
    "thanks thank know like want tell ask asking help need just also very much many "
    "的 地 得 了 着 过 吗 呢 啊 吧 呀 哦 嗯 啦 呗 么 嘛 是 我 你 您 他 她 它 我们 你们 他们 她们 "
    "咱 咱们 自己 要 想 想要 想问 问 问下 问一下 一下 咨询 咨询一下 了解 了解一下 知道 告诉 麻烦 "
    "你好 您好 谢谢 请 请问 帮 帮忙 帮我 怎么 怎么样 怎样 什么 啥 哪 哪里 哪儿 哪个 多少 几 "
    "可以 可不可以 能 能不能 能否 会 会不会 是不是 有没有 如何 需要 应该 该 这 那 这个 那个 "
    "这些 那些 一个 都 也 就 还 又 在 和 跟 与 及 或 或者 但 但是 如果 现在 已经 "
    # the written register's question words (Traditional folded: 為何, 哪些, 何時, 可否 …), which
    # an answer seldom repeats: rare in the index, they outweighed the question's topic words
    "为何 为什么 是否 可否 哪些 哪种 何种 何时 何处 怎么办 "
    # lead-ins and fillers jieba keeps whole ("我想查一下" → 我想查, "能不能" → 能 + 不能, "在线等"
    # → 在线 + 等): each is a term no answer holds, and in a short question one term is a large
    # share of the coverage
    "我想查 我查 查一下 查查 问问 看看 下 哈 不 不能 我要 我能 我想 请教 打听 打听一下 劳驾 关于 "
    "的话 那么 然后 就是 一般 大概 具体 在线 等 谢谢您 非常感谢 感谢 多谢 急 急急 "
    # generic verbs that name no service ("在哪里办", "多久能拿到", "where do I apply")
    "办 拿到 领到 apply take takes "
    # what is left of English contractions ("what's", "don't", "won't") split at the apostrophe
    "s t d ll m re ve don won didn doesn isn aren wasn weren hasn haven hadn couldn wouldn "
    "shouldn".split()
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


def passage_terms(text: str) -> list[str]:
    """What a passage is searched by: its words (`tokenize`), and after each Chinese word of
    three or more characters its smaller words (jieba's search cut, two characters or more).
    jieba cuts a guide's 居民身份证 and 住房公积金 whole, and a citizen's 身份证 and 公积金
    matched none of them; the other way round (a question's long word, a passage's short
    ones) is `spelled_by`'s."""
    terms: list[str] = []
    for term in tokenize(text):
        terms.append(term)
        if len(term) >= 3 and not term.isascii():
            terms.extend(piece for piece in _pieces(term) if len(piece) >= 2
                         and piece not in _STOP)
    return terms


def bigrams(text: str) -> list[str]:
    """The overlapping pairs of Han characters of a text (a lone character as itself),
    Traditional folded to Simplified: terms that do not depend on where jieba cuts. It may cut
    a question's 出生证明 whole and an answer's 出生医学证明 as 出生 / 医学 / 证明; as pairs
    both hold 出生 and 证明. English has no pairs: its words need no segmentation."""
    grams: list[str] = []
    for run in _HAN.findall(normalize(text)):
        grams += [run] if len(run) == 1 else [run[n:n + 2] for n in range(len(run) - 1)]
    return grams


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


class _Field:
    """A short text shared by the chunks of a document (its title, its lead sentence), tokenized
    once per distinct text, with the texts that hold each word."""

    def __init__(self, per_chunk: list[str]) -> None:
        distinct = sorted(set(per_chunk))
        self.words = [set(passage_terms(text)) for text in distinct]
        self.holding: dict[str, list[int]] = {}
        for n, words in enumerate(self.words):
            for word in words:
                self.holding.setdefault(word, []).append(n)
        number = {text: n for n, text in enumerate(distinct)}
        self.of = np.array([number[text] for text in per_chunk], dtype=np.int64)


class LexicalIndex:
    def __init__(self, texts: list[str], titles: list[str] | None = None,
                 leads: list[str] | None = None, documents: list[str] | None = None) -> None:
        """`texts`: what each chunk is searched by; `titles` and `leads`: each chunk's document
        title and lead sentence (for `title_coverage`, `lead_coverage`); `documents`: each
        chunk's document (for `pair_scores`; without them, no pairs are indexed)."""
        import bm25s

        _thread_lock_for_progress_bars()
        self._size = len(texts)
        self._titles = _Field(titles or [])
        self._leads = _Field(leads or [])
        self._retriever = bm25s.BM25()
        corpus = [passage_terms(text) or ["\u2205"] for text in texts]
        self._retriever.index(corpus, show_progress=False)
        grouped: dict[str, list[str]] = {}
        for owner, text in zip(documents or [], texts, strict=False):
            grouped.setdefault(owner, []).append(text)
        place = {owner: n for n, owner in enumerate(grouped)}
        self._document_of = np.array([place[owner] for owner in documents or []],
                                     dtype=np.int64)
        self._pairs = None
        if grouped:
            self._pairs = bm25s.BM25()
            self._pairs.index([bigrams(" ".join(parts)) or ["\u2205"]
                               for parts in grouped.values()], show_progress=False)

    def terms(self) -> list[tuple[str, int]]:
        """Every indexed term with the number of chunks that hold it."""
        held = np.diff(self._retriever.scores["indptr"])  # chunks per term (CSC columns)
        return [(term, int(held[token])) for term, token in self._retriever.vocab_dict.items()
                if token < held.size]

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
        total = 0.0
        for term in terms:
            chunks = self.containing(term)
            weight = self._idf(len(chunks))
            covered[chunks] += weight
            total += weight
        return covered / total

    def containing(self, term: str) -> np.ndarray:
        """The chunks that hold a term whole, or for a Chinese term in parts (`_compound`)."""
        chunks = self._holding(self._retriever.vocab_dict.get(term))
        if not term.isascii():
            chunks = np.union1d(chunks, self._compound(term))
        return chunks

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
        return self._field_coverage(query, self._titles)

    def in_a_title(self, term: str) -> bool:
        """Whether a document's title holds the term, whole or spelt by smaller words (身份证
        in 居民身份证申领…指南): the term names what a guide is about."""
        if term in self._titles.holding:
            return True
        pieces = _pieces(term)
        return any(_parts(term, self._titles.words[n], pieces)
                   for piece in pieces for n in self._titles.holding.get(piece, ()))

    def lead_coverage(self, query: str) -> np.ndarray:
        """The same share in the first sentence of each chunk's document: an answer's or a
        guide's opening sentence restates what it is about ("平价住宅申请资格为…", "This guide
        explains …"), where a sibling that only mentions the question's terms further down
        does not."""
        return self._field_coverage(query, self._leads)

    def _field_coverage(self, query: str, field: _Field) -> np.ndarray:
        terms = set(tokenize(query))
        if not terms or not field.words or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        weights = {term: self._weight(term) for term in terms}
        total = sum(weights.values())
        shares = np.zeros(len(field.words), dtype=np.float32)
        for term, weight in weights.items():
            pieces = _pieces(term)  # one jieba cut per term, not per text
            texts = set(field.holding.get(term, ()))
            for piece in pieces:
                texts |= {n for n in field.holding.get(piece, ())
                          if _parts(term, field.words[n], pieces)}
            shares[sorted(texts)] += weight
        return (shares / total)[field.of]

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

    def pair_scores(self, query: str) -> np.ndarray:
        """For every chunk, in chunk order, its document's BM25 score over character pairs
        (`bigrams`) of the whole document, relative to the best document's: which document is
        about the question's characters, whichever of its passages is quoted. Zeros when no
        pair matches (an English question) or no documents were given."""
        grams = bigrams(query)
        if self._pairs is None or not grams:
            return np.zeros(self._size, dtype=np.float32)
        documents = np.asarray(self._pairs.get_scores(grams), dtype=np.float32)
        if documents.max() <= 0:
            return np.zeros(self._size, dtype=np.float32)
        return documents[self._document_of] / documents.max()

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in chunk order (zeros when nothing matches)."""
        tokens = tokenize(query)
        if not tokens or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)


def topic_words(question: str) -> list[str]:
    """A question's search terms without the words of what it asks for (`aspects.without_cues`:
    "how long", "多少钱", "在哪里办")."""
    from knowledge_base.aspects import without_cues  # aspects is imported by chunking, not here

    return tokenize(without_cues(question))


class QuestionTopics:
    """The words of a knowledge base's stored questions, weighted by how few documents' questions
    use them: what a stored question is *about* against how it is *asked*.

    A stored question and a citizen's of the same shape ("How long does it take to get a
    passport?", "How long does it take to get a residence permit?") are close by cosine even
    when their topics differ. Words of shape ("how long", "多久", "办", "多少钱") appear in the
    questions of many documents; words of topic ("passport", "居住证") in those of one or a few.
    So a word's weight is its inverse document frequency over the documents' question sets, and
    `missing` is the weighted share of a stored question's words the citizen's question lacks:
    high when the topic is another one, low when only the wording differs."""

    def __init__(self, questions: dict[int, tuple[str, str]]) -> None:
        """`questions`: chunk position → (document id, question text)."""
        self.words = {position: frozenset(topic_words(text))
                      for position, (_, text) in questions.items()}
        documents: dict[str, set[str]] = {}
        for position, (doc_id, _) in questions.items():
            documents.setdefault(doc_id, set()).update(self.words[position])
        count = len(documents)
        frequency: dict[str, int] = {}
        for words in documents.values():
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        self.weight = {word: math.log(1.0 + (count - n + 0.5) / (n + 0.5))
                       for word, n in frequency.items()}

    def missing(self, position: int, query_words: set[str]) -> float:
        """The weighted share of stored question `position`'s words absent from the query's
        words; 0 for a question without words. A Chinese word counts by the share of its
        characters the query's words hold, as jieba cuts one phrase differently in two questions
        (老年卡 / 老年人, 补办 / 补领)."""
        words = self.words.get(position, frozenset())
        total = sum(self.weight[word] for word in words)
        if not total:
            return 0.0
        characters = set("".join(word for word in query_words if not word.isascii()))
        absent = 0.0
        for word in words:
            if word in query_words:
                continue
            present = (0.0 if word.isascii()
                       else sum(char in characters for char in word) / len(word))
            absent += self.weight[word] * (1.0 - present)
        return absent / total
