"""Fusing dense scores and term coverage per language (knowledge_base.search.rank_documents)."""

from __future__ import annotations

from dataclasses import replace

from knowledge_base.documents import Metadata
from knowledge_base.lexical import LexicalIndex, passage_terms, spelled_by
from knowledge_base.search import (
    LEAD_WEIGHT,
    LEXICAL_WEIGHT,
    PAIRS_WEIGHT,
    TITLE_WEIGHT,
    Hit,
    rank_documents,
)


def passage(doc_id: str, language: str, dense: float, lexical: float = 0.0, n: int = 0) -> Hit:
    """`lexical`: the passage's term coverage (and its relative BM25 score)."""
    metadata = Metadata.from_mapping({"id": doc_id, "title": doc_id, "language": language,
                                      "department": "health"})
    return Hit(f"{doc_id}#{n}", doc_id, (doc_id,), "", language, 0.0, dense, lexical, metadata,
               coverage=lexical)


def order(hits: list[Hit]) -> list[str]:
    return [hit.doc_id for hit in hits]


def test_keywords_alone_never_push_an_other_language_answer_down():
    # A Chinese question answered by an English document: Chinese passages that merely share
    # words with the question, close behind it in meaning, stay behind it.
    passages = [passage("pension-en", "en", 0.53),
                passage("fee-zh", "zh", 0.50, lexical=1.0),
                passage("id-zh", "zh", 0.49, lexical=0.8)]
    assert 0.50 + LEXICAL_WEIGHT > 0.53  # a bonus added across languages would have overtaken
    hits = rank_documents(passages, "zh")
    assert order(hits) == ["pension-en", "fee-zh", "id-zh"]
    assert order(rank_documents(passages, "zh", mode="dense")) == order(hits)


def test_keywords_still_re_rank_within_the_question_language():
    passages = [passage("near-miss-zh", "zh", 0.60), passage("answer-zh", "zh", 0.57, lexical=1.0),
                passage("other-en", "en", 0.58)]
    hits = rank_documents(passages, "zh")
    # The keyword match moves ahead of its own language's near miss and takes its place (and
    # score); the English document keeps its place between the Chinese ones.
    assert order(hits) == ["answer-zh", "other-en", "near-miss-zh"]
    assert [round(h.score, 2) for h in hits] == [0.60, 0.58, 0.57]
    assert [h.dense for h in hits] == [0.57, 0.58, 0.60]  # the passages' own cosines are kept


def test_the_bonus_is_bounded_by_the_words_the_question_shares():
    # A passage far behind in meaning needs most of the question's words to overtake.
    far = 0.60 - LEXICAL_WEIGHT * 0.5
    passages = [passage("best-zh", "zh", 0.60), passage("far-zh", "zh", far - 0.01, lexical=0.5)]
    assert order(rank_documents(passages, "zh")) == ["best-zh", "far-zh"]
    passages = [passage("best-zh", "zh", 0.60), passage("far-zh", "zh", far - 0.01, lexical=0.6)]
    assert order(rank_documents(passages, "zh")) == ["far-zh", "best-zh"]


def test_coverage_weighs_rare_terms_and_is_absolute():
    index = LexicalIndex(["护照 丢失 补办", "护照 居住证 办理", "居住证 办理 材料", "办理 时间"])
    covered = index.coverage("護照丟失了怎么办理")  # Traditional folded to Simplified
    assert covered[0] > covered[1] > 0  # 丢失 is rarer than 办理
    assert covered.max() < 1.0  # no chunk has every term: not relative to the best one
    assert list(index.coverage("passport")) == [0.0] * 4
    assert list(index.coverage("")) == [0.0] * 4


def test_other_language_passages_are_not_re_ranked_by_stray_keyword_matches():
    # e.g. an English passage quoting a Chinese term that the Chinese question also uses
    passages = [passage("a-en", "en", 0.55), passage("b-en", "en", 0.54, lexical=1.0)]
    assert order(rank_documents(passages, "zh")) == ["a-en", "b-en"]
    assert order(rank_documents(passages, "en")) == ["b-en", "a-en"]


def test_the_question_language_half_of_a_pair_takes_the_better_place():
    passages = [passage("passport-en", "en", 0.62), passage("visa-zh", "zh", 0.60),
                passage("passport-zh", "zh", 0.58)]
    hits = rank_documents(passages, "zh")
    assert order(hits) == ["passport-zh", "visa-zh", "passport-en"]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # in English the English half was first already; a document without a pair never moves
    assert order(rank_documents(passages, "en")) == ["passport-en", "visa-zh", "passport-zh"]


def test_one_hit_per_document_its_best_passage():
    passages = [passage("a-zh", "zh", 0.50, n=0), passage("a-zh", "zh", 0.48, lexical=1.0, n=1),
                passage("b-zh", "zh", 0.45)]
    hits = rank_documents(passages, "zh")
    assert order(hits) == ["a-zh", "b-zh"] and hits[0].chunk_id == "a-zh#1"
    assert hits[0].score == 0.50  # the document's best cosine, whichever passage is shown


def test_a_chinese_term_counts_where_its_smaller_words_spell_it():
    # jieba cuts the question's 出生证明 whole and the guide's 出生医学证明 as 出生/医学/证明.
    index = LexicalIndex(["出生医学证明 首次 签发", "户口 登记 材料", "出生 日期 登记"])
    covered = index.coverage("出生证明在哪里办")
    assert covered[0] > 0  # 出生 + 证明 spell 出生证明
    assert covered[2] == 0  # 出生 alone does not
    assert spelled_by("出生证明", {"出生", "医学", "证明"})
    assert not spelled_by("出生证明", {"出生", "医学"})
    assert not spelled_by("passport", {"pass", "port"})  # only Chinese terms are spelled


def test_a_question_s_short_word_is_found_inside_a_passage_s_long_one():
    # jieba cuts a guide's 居民身份证 and 住房公积金 whole, a citizen's 身份证 and 公积金 alone.
    index = LexicalIndex(["原居民身份证 换领 交回", "住房公积金 提取 条件", "户口簿 材料"],
                         ["居民身份证办理指南", "住房公积金提取", "户口登记"])
    assert index.coverage("补办身份证")[0] > 0 and index.coverage("补办身份证")[2] == 0
    assert index.scores("公积金怎么提取").argmax() == 1
    assert index.title_coverage("身份证")[0] == 1.0
    assert "身份证" in passage_terms("原居民身份证") and "原" not in passage_terms("居民身份证")


def test_the_document_title_breaks_a_tie_between_passages_naming_the_term():
    index = LexicalIndex(["新生儿 户口 登记 需要 出生医学证明", "出生医学证明 的 作用"],
                         ["户口迁入办理指南", "出生医学证明办理指南"])
    question = "出生证明在哪里办"
    titled = index.title_coverage(question)
    assert titled[1] > 0 and titled[0] == 0
    assert list(index.title_coverage("")) == [0.0, 0.0]
    household = replace(passage("household-zh", "zh", 0.605, lexical=0.14), title=titled[0])
    birth = replace(passage("birth-zh", "zh", 0.599, lexical=0.14), title=titled[1])
    assert order(rank_documents([household, birth], "zh")) == ["birth-zh", "household-zh"]
    # ... and never lifts a passage far behind in meaning
    far = replace(birth, dense=0.605 - TITLE_WEIGHT - 0.01)
    assert order(rank_documents([household, far], "zh")) == ["household-zh", "birth-zh"]


def test_the_answer_that_opens_with_the_question_s_terms_breaks_a_tie_between_siblings():
    # Two FAQs of one department (same title) both mention the low-income housing rules; the
    # one asked about opens with them, the other only names them further down.
    texts = ["平价住宅 申请 资格 为 低收入户 。 申请 请 洽 区公所",
             "租金 补贴 每月 发放 。 已 申请 平价住宅 者 不得 重复 申请 资格"]
    leads = ["平价住宅 申请 资格 为 低收入户 。", "租金 补贴 每月 发放 。"]
    index = LexicalIndex(texts, ["社会局", "社会局"], leads)
    question = "平價住宅申請資格為何"  # Traditional folded; 為何 is a question word, not a topic
    led = index.lead_coverage(question)
    assert led[0] > 0 and led[1] == 0
    assert list(index.lead_coverage("")) == [0.0, 0.0]
    covered = index.coverage(question)
    assert covered[0] == covered[1] > 0.99  # both have every topic word; 为何 counts in neither
    housing = replace(passage("housing-zh", "zh", 0.50, lexical=covered[0]), lead=led[0])
    rent = replace(passage("rent-zh", "zh", 0.52, lexical=covered[1]), lead=led[1])
    assert order(rank_documents([rent, housing], "zh")) == ["housing-zh", "rent-zh"]
    # ... and never lifts a passage far behind in meaning
    far = replace(housing, dense=0.52 - LEAD_WEIGHT - 0.01)
    assert order(rank_documents([rent, far], "zh")) == ["rent-zh", "housing-zh"]


def test_character_pairs_score_whole_documents_whatever_jieba_cuts():
    # jieba cuts 出生证明 whole and 出生医学证明 in three words; their pairs meet all the same.
    texts = ["出生医学证明由医院签发。", "父母需带身份证。", "户口登记需要材料。",
             "出生证明遗失补办。"]
    index = LexicalIndex(texts, documents=["birth", "birth", "household", "lost"])
    pairs = index.pair_scores("出生證明怎麼辦")  # Traditional folded to Simplified
    assert pairs[3] == 1.0  # relative to the best document
    assert 0 < pairs[0] == pairs[1] < 1  # 出生 and 证明 but not 生证; one score per document
    assert pairs[2] == 0.0  # no pair in common
    assert list(index.pair_scores("birth certificate")) == [0.0] * 4  # English has no pairs
    assert list(LexicalIndex(texts).pair_scores("出生证明")) == [0.0] * 4  # no documents given


def test_character_pairs_re_rank_within_the_question_language_by_a_bounded_bonus():
    answer = replace(passage("birth-zh", "zh", 0.50), pairs=1.0)
    near = passage("household-zh", "zh", 0.50 + PAIRS_WEIGHT - 0.01)
    assert order(rank_documents([near, answer], "zh")) == ["birth-zh", "household-zh"]
    far = replace(answer, dense=0.50 - 0.02)
    assert order(rank_documents([near, far], "zh")) == ["household-zh", "birth-zh"]
    # never across languages: the English document keeps its place by meaning
    english = passage("pension-en", "en", 0.51)
    chinese = replace(passage("fee-zh", "zh", 0.50), pairs=1.0)
    assert order(rank_documents([chinese, english], "en")) == ["pension-en", "fee-zh"]
