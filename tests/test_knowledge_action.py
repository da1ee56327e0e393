"""The answering action: a bilingual apology, never silence, when search fails; follow-up
questions read with the previous answered question."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge


def tracker(text: str) -> Tracker:
    return Tracker("t", {"language": "en"}, {"text": text, "intent": {"name": "ask_question"}},
                   [], False, None, {}, "action_listen")


def test_search_failure_gives_an_apology(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("index unreadable")

    monkeypatch.setattr(knowledge.searcher(), "refresh", broken)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(knowledge.ActionAnswerQuestion().run(dispatcher, tracker("fees?"), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_kb_error"]
    assert events[0]["name"] == "last_answer" and events[0]["value"] is None


def test_a_complaint_never_gets_a_passage(monkeypatch):
    """Even if the classifier took a letter of complaint for a question, the answering action
    passes it to the request flow instead of searching the policy documents."""
    def searched(*_args, **_kwargs):
        raise AssertionError("a complaint must not be searched for a passage")

    monkeypatch.setattr(knowledge.searcher(), "answer", searched)
    letter = ("Dear Sir or Madam, the factory next to our village has been dumping waste water "
              "into the river for months. The water is black and smells. We have complained "
              "many times and nothing happened. Please investigate. Thank you.")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(knowledge.ActionAnswerQuestion().run(dispatcher, tracker(letter), {}))
    assert dispatcher.messages == []
    assert events == [{"event": "followup", "timestamp": None, "name": "ticket_form"}]


@pytest.mark.parametrize(("text", "language", "requested"), [
    ("why do you need my phone number?", "en", "contact_digits"),
    ("为什么要我的手机号后四位？", "zh", "contact_digits"),
    ("查进度为什么要身份证号", "zh", "verification_code"),
])
def test_why_the_four_digits_is_answered_where_they_are_asked_for(monkeypatch, text, language,
                                                                   requested):
    """Searched as a policy question, it quoted the 12345 hotline; it is told what the digits
    are for and how they are kept (the form then asks again)."""
    def searched(*_args, **_kwargs):
        raise AssertionError("not a policy question")

    monkeypatch.setattr(knowledge.searcher(), "answer", searched)
    asking = Tracker("t", {"language": language, "requested_slot": requested},
                     {"text": text, "intent": {"name": "ask_question"}}, [], False, None,
                     {"name": "ticket_form"}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert asyncio.run(knowledge.ActionAnswerQuestion().run(dispatcher, asking, {})) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_why_four_digits"]
    # ... and the same words outside those steps are an ordinary question
    assert not knowledge.asks_why_the_digits(tracker(text), text)


# --- follow-up questions ------------------------------------------------------------------

NOW = 1_800_000_000.0


def user(text: str, at: float, intent: str = "ask_question") -> dict:
    return {"event": "user", "timestamp": at, "text": text,
            "parse_data": {"text": text, "intent": {"name": intent}}}


def answered(question: str, at: float) -> list[dict]:
    return [user(question, at),
            {"event": "action", "timestamp": at + 1, "name": "action_answer_question"},
            {"event": "slot", "timestamp": at + 1, "name": "last_question", "value": question}]


def test_followup_context_is_the_last_answered_question_of_this_conversation():
    events = [*answered("我要办居住证，需要带什么", NOW), user("可以吗", NOW + 60)]
    assert knowledge.followup_context(events, 600) == "我要办居住证，需要带什么"
    assert knowledge.followup_context(events, 30) is None  # too long ago
    assert knowledge.followup_context(events, 0) is None  # turned off


def test_no_followup_context_across_a_session_or_another_flow():
    restarted = [*answered("我要办居住证，需要带什么", NOW),
                 {"event": "session_started", "timestamp": NOW + 30},
                 # carried over into the new session: not an answer given in it
                 {"event": "slot", "timestamp": NOW + 30, "name": "last_question",
                  "value": "我要办居住证，需要带什么"},
                 user("可以吗", NOW + 60)]
    assert knowledge.followup_context(restarted, 600) is None
    elsewhere = [*answered("我要办居住证，需要带什么", NOW),
                 user("查一下我的办件进度", NOW + 20, "check_application_status"),
                 user("可以吗", NOW + 60)]
    assert knowledge.followup_context(elsewhere, 600) is None
    rated = [*answered("我要办居住证，需要带什么", NOW),
             user("有帮助", NOW + 20, "feedback_helpful"), user("可以吗", NOW + 60)]
    assert knowledge.followup_context(rated, 600) == "我要办居住证，需要带什么"


def converse(monkeypatch, searcher, first: str | None, second: str, language: str = "zh",
             intent: str = "ask_question"):
    """`second` asked after `first` was answered (None: nothing was), through the action the
    NLU's `intent` leads to."""
    monkeypatch.setattr(knowledge, "searcher", lambda: searcher)
    monkeypatch.setattr(knowledge, "record_unanswered", lambda *_a, **_k: None)
    events = [*(answered(first, NOW) if first else []), user(second, NOW + 45, intent)]
    current = Tracker("t", {"language": language, "last_question": first},
                      {"text": second, "intent": {"name": intent}},
                      events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    action = knowledge.ActionOutOfScope() if intent == "out_of_scope" \
        else knowledge.ActionAnswerQuestion()
    result = asyncio.run(action.run(dispatcher, current, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in result if e["event"] == "slot"}


def test_a_followup_is_answered_from_the_previous_questions_document(monkeypatch,
                                                                     sample_searcher):
    messages, slots = converse(monkeypatch, sample_searcher, "我要办居住证，需要带什么",
                               "我没有租房合同，住在朋友家，可以吗")
    assert messages[0]["response"] == "utter_kb_answer"
    assert messages[0]["title"] == "滨江市居住证办理指南"
    assert slots["last_answer"].startswith("ps-residence-permit-zh")
    assert slots["last_question"].startswith("我要办居住证")  # the topic, for the next one
    # Cross-lingual: the citation and the "other language" hint stay.
    messages, _ = converse(monkeypatch, sample_searcher,
                           "How do I apply for the farm machinery subsidy?",
                           "can I sell the harvester afterwards?", "en")
    assert messages[0]["title"] == "农机购置与应用补贴申领指南"
    assert [m["response"] for m in messages] == ["utter_kb_answer", "utter_kb_other_language"]


def test_a_followup_the_nlu_took_for_out_of_scope_is_answered(monkeypatch, sample_searcher):
    """The NLU sees one message: "and how long does it take?" has no topic and reads as out of
    scope. After an answered question it is that question's follow-up."""
    messages, slots = converse(monkeypatch, sample_searcher,
                               "how much does it cost to renew my passport",
                               "and how long does it take?", "en", "out_of_scope")
    assert messages[0]["response"] == "utter_kb_answer"
    assert slots["last_answer"].startswith("ps-exit-entry-documents-en")
    messages, _ = converse(monkeypatch, sample_searcher, "补办身份证要多少钱", "那要多久呢",
                           "zh", "out_of_scope")
    assert messages[0]["response"] == "utter_kb_answer" and "身份证" in messages[0]["title"]
    # Nothing answered just before, or nothing asked: out of scope, as the NLU said.
    for first, second in [(None, "and how long does it take?"),
                          ("how much does it cost to renew my passport", "tell me a joke")]:
        messages, slots = converse(monkeypatch, sample_searcher, first, second, "en",
                                   "out_of_scope")
        assert [m["response"] for m in messages] == ["utter_out_of_scope"] and slots == {}


def test_a_topic_switch_is_answered_on_its_own(monkeypatch, sample_searcher):
    messages, slots = converse(monkeypatch, sample_searcher, "我要办居住证，需要带什么",
                               "身份证丢了怎么补办")
    assert messages[0]["title"] == "居民身份证申领、换领和补领办理指南"
    assert slots["last_question"] == "身份证丢了怎么补办"


# --- markup from documents --------------------------------------------------------------------

HOSTILE_POLICY = (
    "Lost bus card replacement\n\n"
    "1. How to replace a lost senior bus card\n"
    "Report the lost senior bus card at any service counter and pay the replacement fee of "
    "20 yuan. [Apply online](javascript:alert(document.cookie)) "
    "![card](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) "
    "<a href=\"javascript:alert(2)\">the form</a> <img src=x onerror=alert(3)> "
    "<javascript:alert(4)> Details: [guide](https://www.riverside.gov.example/bus-card).\n"
)


def test_a_published_documents_markup_never_reaches_the_answer(monkeypatch, tmp_path):
    """A plain-text document carrying Markdown and HTML (kept verbatim by the parser): the
    answer is plain text, with only the http(s) address left, as text."""
    from knowledge_base.config import KnowledgeBaseSettings
    from knowledge_base.search import Searcher
    from knowledge_base.service import KnowledgeBase

    settings = dataclasses.replace(KnowledgeBaseSettings(), home=tmp_path / "kb",
                                   answerability="")
    kb = KnowledgeBase(settings, knowledge.searcher().embedder)
    path = tmp_path / "bus-card.txt"
    path.write_text(HOSTILE_POLICY, encoding="utf-8")
    kb.add(path, {"id": "tr-lost-bus-card-en", "language": "en", "department": "transport",
                  "title": "Lost <b>bus card</b> [replacement](javascript:alert(5))",
                  "source": "https://www.riverside.gov.example/transport/bus-card"})
    searcher = Searcher(settings, knowledge.searcher().embedder)
    assert "javascript:" in searcher.search("replace a lost senior bus card", 1)[0].text
    monkeypatch.setattr(knowledge, "searcher", lambda: searcher)
    monkeypatch.setattr(knowledge, "record_unanswered", lambda *_a, **_k: None)
    dispatcher = CollectingDispatcher()
    asyncio.run(knowledge.ActionAnswerQuestion().run(
        dispatcher, tracker("How do I replace a lost senior bus card?"), {}))
    answer = dispatcher.messages[0]
    assert answer["response"] == "utter_kb_answer"
    shown = " ".join(str(answer[key]) for key in ("answer", "title", "section", "source"))
    assert "20 yuan" in shown and "Apply online" in shown and "card" in shown
    for forbidden in ("javascript", "data:", "<a", "<img", "<b>", "](", "onerror"):
        assert forbidden not in shown.lower(), forbidden
    assert answer["source"] == "https://www.riverside.gov.example/transport/bus-card"


def test_a_source_that_is_not_a_safe_link_is_never_cited():
    """An index built before sources were checked at ingest: the document's id is cited."""
    from knowledge_base.documents import Metadata
    from knowledge_base.search import Hit

    for source in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>"):
        metadata = Metadata(id="old-doc", title="Old", language="en", department="health",
                            source=source)
        hit = Hit("old-doc#0", "old-doc", ("Old", "Fees"), "Free of charge.", "en", 1.0, 1.0,
                  0.0, metadata)
        assert knowledge.citation(hit)["source"] == "health · old-doc"


def test_the_answer_is_the_part_of_the_section_the_question_asks_for(monkeypatch,
                                                                      sample_searcher):
    """A fee question quotes the fee sentences of "收费和时限", not the processing time next
    to them; the voice channel's short form then starts with the fee."""
    from channels.voice_turns import shorten

    monkeypatch.setattr(knowledge, "searcher", lambda: sample_searcher)
    monkeypatch.setattr(knowledge, "record_unanswered", lambda *_a, **_k: None)
    for question, language, wanted, left_out in (
            ("居住证补办要交多少钱", "zh", "20元", "15日内"),
            ("居住證辦下來要幾天", "zh", "15日内", "20元")):
        current = Tracker("t", {"language": language},
                          {"text": question, "intent": {"name": "ask_question"}}, [], False,
                          None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        asyncio.run(knowledge.ActionAnswerQuestion().run(dispatcher, current, {}))
        answer = dispatcher.messages[0]
        assert answer["response"] == "utter_kb_answer", question
        assert answer["section"] == "收费和时限"
        assert wanted in answer["answer"] and left_out not in answer["answer"]
        assert wanted in shorten(answer["answer"], language).say


def test_an_answer_from_the_other_language_carries_the_note(monkeypatch, sample_searcher):
    monkeypatch.setattr(knowledge, "searcher", lambda: sample_searcher)
    monkeypatch.setattr(knowledge, "record_unanswered", lambda *_a, **_k: None)
    dispatcher = CollectingDispatcher()
    asyncio.run(knowledge.ActionAnswerQuestion().run(
        dispatcher, tracker("Which farm machines qualify for the purchase subsidy?"), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_kb_answer",
                                                            "utter_kb_other_language"]
    assert dispatcher.messages[0]["title"] == "农机购置与应用补贴申领指南"


def test_steps_are_quoted_as_a_list(monkeypatch, sample_searcher):
    messages, _ = converse(monkeypatch, sample_searcher, "我想问问居住证", "居住证怎么办理")
    answer = messages[0]
    assert answer["section"].endswith("第二步：申领居住证")
    assert answer["answer"].count("\n• ") >= 2  # the conditions stay one item a line


@pytest.mark.parametrize("question", ["我老婆生孩子了，出生证明在哪里办",
                                      "我太太生小孩了，出生證明去哪裡辦"])
def test_a_question_naming_a_guides_subject_is_answered_from_that_guide(sample_searcher,
                                                                       question):
    # The household guide's newborn section names the birth certificate too, and is as close
    # by meaning; the guide titled 出生医学证明… is the one about it.
    found = sample_searcher.answer(question, "zh")
    assert found.answered and found.best.doc_id == "health-birth-certificate-zh"


@pytest.mark.parametrize(("question", "guides"), [
    ("How long does it take to get a residence permit?",
     {"ps-residence-permit-zh", "ps-foreigner-residence-permit-en"}),
    ("How long does it take to get a passport?", {"ps-exit-entry-documents-en"}),
    ("居住证多久能办好？", {"ps-residence-permit-zh"}),
    ("身份证补办要多久", {"ps-id-card-zh"}),
    ("居住證要帶什麼", {"ps-residence-permit-zh"}),
])
def test_the_topic_of_a_question_outweighs_its_shape(sample_searcher, question, guides):
    # The passport guide's stored "How long does it take to get a passport?" is the closest
    # question by cosine to the residence-permit one: same shape, another topic. Its topic word
    # is missing from the citizen's question, so it no longer lifts the passport guide.
    found = sample_searcher.answer(question)
    assert found.answered and found.best.doc_id in guides


@pytest.mark.parametrize(("question", "guide"), [
    ("我想问问那个居住正怎么弄", "ps-residence-permit-zh"),  # 正 typed for 证
    ("社宝卡丢了怎么补办", "hrss-social-insurance-enrolment-zh"),
    ("高领津贴怎么领", "ca-elderly-allowance-zh"),
])
def test_a_term_typed_as_a_homophone_is_searched_as_meant(sample_searcher, question, guide):
    # A pinyin input method gives the right sound with the wrong character.
    found = sample_searcher.answer(question)
    assert found.answered and found.best.doc_id == guide
