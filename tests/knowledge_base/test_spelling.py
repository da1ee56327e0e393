"""Mistyped English words put back before a search (`knowledge_base.spelling`), against the
index's own words and the English word list shipped in pyspellchecker."""

from __future__ import annotations

import pytest

from knowledge_base.spelling import SpellingRepair, index_words

INDEX = index_words([("passport", 40), ("marriage", 12), ("registration", 30), ("pension", 9),
                     ("allowance", 15), ("hukou", 6), ("dibao", 5), ("permit", 20),
                     ("permits", 4), ("居住证", 50), ("12345", 3)])


@pytest.fixture(scope="module")
def repair() -> SpellingRepair:
    return SpellingRepair(INDEX)


@pytest.mark.parametrize(("typed", "meant"), [
    ("wat do i need for marrige registration", "wat do i need for marriage registration"),
    ("how long dose it take to get a pasport", "how long dose it take to get a passport"),
    ("Pasport fees", "Passport fees"),  # a capital at the start is kept
    ("my pention hasnt been paid", "my pension hasnt been paid"),  # apostrophe left out
    ("registartion of a newborn", "registration of a newborn"),  # two edits, a long word
    ("alowance for older peple", "allowance for older people"),  # an English word too
])
def test_mistyped_words_are_put_back(repair, typed, meant):
    assert repair.repair(typed) == meant


@pytest.mark.parametrize("text", [
    "hukou transfer and dibao",  # the index's own words, not English
    "I live on Binhu Road near Wanda Plaza",  # names inside a sentence
    "What is the NHSA hotline",  # an acronym
    "my mum is 82",  # short words have too many neighbours
    "居住证 passport 怎么办",
])
def test_words_and_names_are_left_alone(repair, text):
    assert repair.repair(text) == text


def test_the_search_puts_back_a_mistyped_question_against_its_own_index(tmp_path):
    from knowledge_base.lexical import LexicalIndex

    lexical = LexicalIndex(["Bring your passport and the marriage registration form."])
    words = index_words(lexical.terms())
    assert {"passport", "marriage", "registration"} <= words.keys()
    assert SpellingRepair(words).repair("marrige pasport") == "marriage passport"
