"""Cutting sections into passages that can be embedded, searched and quoted.

A chunk never crosses a section (so its citation is exact) and breaks only at sentence ends —
。！？； in Chinese, . ! ? ; in English — unless a single sentence is longer than the limit.
Consecutive chunks share `overlap` sentences so an answer split across a boundary is still
found whole in one of them.

Each passage carries the aspects of its section (the steps, the materials, the fees, ...;
`knowledge_base.aspects.section_aspects`), labelled here at ingest from the headings, so
search can quote the section a question asks for without any work at query time.

A document's questions (`Metadata.questions`) become chunks of kind "question": embedded alone
(USE-m was trained to match a question with its paraphrase), they are never quoted; a hit on one
counts for its document, whose best passage for the citizen's question is the answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.text import detect_language
from knowledge_base.aspects import section_aspects
from knowledge_base.documents import Document

PASSAGE, QUESTION = "passage", "question"

_END_MARKS = "[。！？；!?;]"  # a full stop ends an English sentence only before a space or the end
_SENTENCE_END = re.compile(rf"(?<={_END_MARKS})|(?<=\.)(?=\s)|\n")  # where to split
_ANY_SENTENCE_END = re.compile(rf"{_END_MARKS}|\.(\s|$)")  # whether there is a sentence at all
# A piece this short without an end mark of its own ("and", "or", "以及") after a "；" is the
# tail of the list item before it, not a sentence (`split_sentences`).
_TAIL_CHARS = 4
# A preamble this short without a single sentence end is the title again, a dateline or a byline
# ("滨江市最低生活保障申请办理指南", "Last updated: 20 August 2025", "发布日期：… 来源：…").
PREAMBLE_NOTHING_TO_QUOTE = 60


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    headings: tuple[str, ...]
    position: int
    text: str
    language: str
    kind: str = PASSAGE
    aspects: tuple[str, ...] = ()  # what its section tells (knowledge_base/aspects.py)

    @property
    def content_hash(self) -> str:
        """Identifies what gets embedded: a changed heading or text means a new vector."""
        if self.kind == QUESTION:
            return hashlib.sha256(f"{QUESTION}\u241f{self.text}".encode()).hexdigest()[:24]
        payload = "\u241f".join((*self.headings, self.text))
        return hashlib.sha256(payload.encode()).hexdigest()[:24]

    @property
    def embedding_text(self) -> str:
        """The title and headings ("护照办理指南 / 所需材料") carry what the sentences lack;
        a question is matched as the question it is."""
        if self.kind == QUESTION:
            return self.text
        return " / ".join(self.headings) + "\n" + self.text


def chunk_id(doc_id: str, position: int) -> str:
    return f"{doc_id}#{position}"


def doc_id_of(chunk_id_: str) -> str:
    """The document a chunk id belongs to (ids are `<doc id>#<position>`)."""
    return chunk_id_.split("#", 1)[0]


def split_sentences(text: str) -> list[str]:
    """Sentences, each with its end mark. A short tail after a list item's "；" that is no
    sentence of its own ("…daily living costs; and", "……；以及") stays with the item: cut off, it
    began the next passage, and the answer quoted from there opened with "and" and left out
    the item before it."""
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip() if piece else ""
        if not piece:
            continue
        if (sentences and sentences[-1][-1] in "；;" and len(piece) <= _TAIL_CHARS
                and not _ANY_SENTENCE_END.search(piece)):
            sentences[-1] += ("" if piece[0] > "\u2e7f" else " ") + piece
        else:
            sentences.append(piece)
    return sentences


def _hard_wrap(sentence: str, limit: int) -> list[str]:
    return [sentence[i : i + limit] for i in range(0, len(sentence), limit)]


def _pieces(text: str, limit: int) -> list[tuple[str, bool]]:
    """The sentences of a section, each with whether it begins a paragraph (a list item, a
    table row, a new paragraph of prose), cut to `limit` where one is longer."""
    pieces = []
    for paragraph in text.split("\n"):
        for number, sentence in enumerate(split_sentences(paragraph)):
            for part, piece in enumerate(_hard_wrap(sentence, limit)):
                pieces.append((piece, number == 0 and part == 0))
    return pieces


def _join(pieces: list[tuple[str, bool]], language: str) -> str:
    """Sentences back into prose; paragraphs, list items ("• ...") and table rows keep their
    own lines, so a quoted passage reads as the document did."""
    text = ""
    for sentence, starts_paragraph in pieces:
        if text:
            text += "\n" if starts_paragraph else (" " if language == "en" else "")
        text += sentence
    return text


def has_nothing_to_quote(headings: tuple[str, ...], text: str) -> bool:
    """Whether a section is only the text before the first heading repeating the title, a date
    or a byline: quoted as an answer it tells the citizen nothing (the citation already names
    the document and its date), so it is not made a passage."""
    text = text.strip()
    return (len(headings) <= 1 and len(text) <= PREAMBLE_NOTHING_TO_QUOTE
            and not _ANY_SENTENCE_END.search(text))


def chunk_document(document: Document, max_chars: int = 360, overlap: int = 1) -> list[Chunk]:
    chunks: list[Chunk] = []
    # (A document that is nothing but such a line keeps it: it is all there is to find.)
    sections = [s for s in document.sections if not has_nothing_to_quote(s.headings, s.text)]
    for section in sections or document.sections:
        aspects = section_aspects(section.headings)
        sentences = _pieces(section.text, max_chars)
        start = 0
        while start < len(sentences):
            end, size = start, 0
            while end < len(sentences) and (
                end == start or size + len(sentences[end][0]) <= max_chars
            ):
                size += len(sentences[end][0]) + 1
                end += 1
            text = _join(sentences[start:end], document.metadata.language)
            chunks.append(
                Chunk(
                    id=chunk_id(document.id, len(chunks)),
                    doc_id=document.id,
                    headings=section.headings,
                    position=len(chunks),
                    text=text,
                    language=document.metadata.language,
                    aspects=aspects,
                )
            )
            if end >= len(sentences):
                break
            # The next passage repeats the last sentence for context, unless it can begin a
            # paragraph (a list item, a table row): quoted, it then reads from a start, not
            # from the middle of an item before it.
            start = end if sentences[end][1] else max(end - overlap, start + 1)
    for question in document.metadata.questions:
        chunks.append(Chunk(
            id=chunk_id(document.id, len(chunks)), doc_id=document.id,
            headings=(document.metadata.title,), position=len(chunks), text=question,
            language=detect_language(question).language or document.metadata.language,
            kind=QUESTION))
    return chunks
