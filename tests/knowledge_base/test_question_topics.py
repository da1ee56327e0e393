"""A stored question's topic words against its shape words (`QuestionTopics`, `without_cues`)."""

from __future__ import annotations

import pytest

from knowledge_base.aspects import without_cues
from knowledge_base.lexical import QuestionTopics, topic_words

STORED = {
    0: ("passport", "How long does it take to get a passport?"),
    1: ("passport", "护照多久能办好？"),
    2: ("residence", "How long does it take to get a residence permit?"),
    3: ("residence", "居住证多久能拿到？"),
    4: ("id-card", "How long does it take to replace an ID card?"),
    5: ("id-card", "身份证多久能拿到？"),
    6: ("bus", "老年卡怎么办？"),
}


@pytest.fixture(scope="module")
def topics() -> QuestionTopics:
    return QuestionTopics(STORED)


@pytest.mark.parametrize(("question", "kept", "gone"), [
    ("How long does it take to get a passport?", "passport", "long"),
    ("居住證多久能辦好", "居住证", "多久"),
    ("身份证补办要多少钱", "身份证", "多少钱"),
    ("辦居住證要帶什麼材料", "居住证", "材料"),
    ("Where do I apply for a residence permit?", "residence", "where"),
])
def test_what_is_asked_for_is_not_the_topic(question, kept, gone):
    assert kept in without_cues(question) and gone not in without_cues(question)
    assert kept in topic_words(question)


def test_shape_words_weigh_less_than_topic_words(topics):
    # Generic verbs ("take", "拿到", in three documents' questions) are not topic words at
    # all; "passport" and 护照, in one document's, weigh.
    assert "take" not in topics.weight and "拿到" not in topics.weight
    assert topics.weight["passport"] > 0.0 and topics.weight["护照"] > 0.0


@pytest.mark.parametrize("question", ["How long does it take to get a residence permit?",
                                      "How long until my residence permit is ready?"])
def test_a_stored_question_on_another_topic_misses_its_topic(topics, question):
    words = set(topic_words(question))
    assert topics.missing(0, words) > 0.5  # the passport question: "passport" is missing
    assert topics.missing(2, words) < topics.missing(0, words)


def test_chinese_words_cut_differently_still_agree(topics):
    # jieba cuts 老年卡 and 老年人…卡 differently; the characters are all there.
    assert topics.missing(6, set(topic_words("老年人公交卡怎么办"))) == 0.0
    residence = set(topic_words("居住证多久能办好"))
    assert topics.missing(1, residence) > topics.missing(3, residence)  # 护照 is missing


def test_a_question_without_topic_words_misses_nothing(topics):
    assert topics.missing(99, {"passport"}) == 0.0


@pytest.mark.parametrize(("typed", "searched"), [
    ("居住正怎么办理", "居住证怎么办理"), ("公机金咋提取", "公积金咋提取"),
    ("出生症明在哪开", "出生证明在哪开"),
    # nothing shared but the sound, or ordinary words: left alone
    ("攻击间可以提取吗", "攻击间可以提取吗"), ("他们互相攻击", "他们互相攻击"),
    ("How long does it take?", "How long does it take?"),
])
def test_mistyped_terms_are_put_back_before_searching(typed, searched):
    from knowledge_base.search import prepared
    assert prepared(typed) == searched
