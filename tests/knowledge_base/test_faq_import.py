"""FAQ collections imported as documents (CSV, JSONL, XML), questions as content, bad files.

The FAQ entries here are written for these tests (a fictional city's library and parks).
"""

from __future__ import annotations

import json

import pytest

from helpers.knowledge import markdown
from knowledge_base.__main__ import main
from knowledge_base.documents import DocumentError, Metadata
from knowledge_base.faq import parse_faq
from knowledge_base.search import Searcher
from knowledge_base.service import KnowledgeBase

FAQS = [
    {"id": "LIB-001", "question": "借书证怎么办理？", "department": "市图书馆",
     "answer": "持本人身份证到图书馆一楼服务台填写申请表，当场办理，押金一百元。",
     "keywords": "借书证,办证", "date": "2024-05-01"},
    {"id": "LIB-002", "question": "一次最多可以借几本书？", "department": "市图书馆",
     "answer": "每张借书证一次最多借十本，借期三十天，可以在网上续借一次。",
     "keywords": "借阅,续借", "date": "2024-05-01"},
    {"id": "PARK-7", "question": "公园里可以放风筝吗？", "department": "市园林局",
     "answer": "湖滨公园北侧草坪允许放风筝，其他区域以及高压线附近禁止放风筝。",
     "keywords": "风筝", "date": "2023-09-12"},
]
COLUMNS = ("id", "question", "answer", "department", "keywords", "date")


def csv_text(rows: list[dict], columns=COLUMNS) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def xml_text(rows: list[dict]) -> str:
    from xml.sax.saxutils import escape

    items = "".join("<faq>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in row.items())
                    + "</faq>" for row in rows)
    return f'<?xml version="1.0" encoding="UTF-8"?><faqs>{items}</faqs>'


@pytest.fixture
def kb(kb_settings, use_embedder):
    return KnowledgeBase(kb_settings, use_embedder)


def test_a_csv_export_becomes_documents_found_by_their_questions(kb, use_embedder, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text(csv_text(FAQS), encoding="utf-8")
    report = kb.import_faq(path)
    assert report.documents == 3
    stored = {s.metadata.id: s.metadata for s in kb.list()}
    assert set(stored) == {"faq-lib-001", "faq-lib-002", "faq-park-7"}
    assert stored["faq-lib-002"].questions == ("一次最多可以借几本书？",)
    assert stored["faq-park-7"].department == "市园林局"
    searcher = Searcher(kb.settings, use_embedder)
    answer = searcher.answer("我能借多少本书", "zh")
    assert answer.best.doc_id == "faq-lib-002" and answer.best.question > 0.5
    assert "十本" in answer.best.text
    assert answer.best.metadata.department == "市图书馆"  # named in the citation (no link)
    # Traditional Chinese finds the same entry
    assert searcher.answer("公園可以放風箏嗎", "zh").best.doc_id == "faq-park-7"


def test_jsonl_and_xml_give_the_same_entries(tmp_path):
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in FAQS).encode()
    from_jsonl = parse_faq(jsonl, "jsonl")
    from_xml = parse_faq(xml_text(FAQS).encode(), "xml")
    from_csv = parse_faq(csv_text(FAQS).encode(), "csv")
    assert from_jsonl == from_xml == from_csv
    assert from_xml[2].keywords == ("风筝",)


def test_reimporting_updates_in_place(kb, tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FAQS), encoding="utf-8")
    kb.import_faq(path)
    changed = [{**FAQS[0], "answer": "持身份证在自助机上办理，无需押金。"}]
    path.write_text(json.dumps(changed[0], ensure_ascii=False), encoding="utf-8")
    kb.import_faq(path)
    assert len(kb.list()) == 3
    assert "无需押金" in kb.show("faq-lib-001").sections[0].text


BAD_FILES = {
    "broken XML": ("faq.xml", "<faqs><faq><id>1</id><question>问</question><answer>答",
                   "XML file is broken", "XML 文件有误"),
    "entity expansion": ("faq.xml", '<?xml version="1.0"?><!DOCTYPE faqs [<!ENTITY a "aaaa">'
                         '<!ENTITY b "&a;&a;&a;&a;">]><faqs><faq><id>1</id><question>&b;'
                         '</question><answer>&b;</answer><department>d</department></faq>'
                         '</faqs>', "DOCTYPE", "DOCTYPE"),
    "missing columns": ("faq.csv", csv_text(FAQS, ("id", "question", "keywords")),
                        "missing columns: answer, department", "缺少列：answer、department"),
    "duplicate ids": ("faq.jsonl", "\n".join(json.dumps({**r, "id": "LIB-001"},
                                                        ensure_ascii=False) for r in FAQS),
                      "entry 2: id 'LIB-001' repeats entry 1",
                      "第 2 条：编号 'LIB-001' 与第 1 条重复"),
    "empty answer": ("faq.jsonl", json.dumps({**FAQS[0], "answer": "  "}),
                     "entry 1: missing or empty answer", "第 1 条：缺少或为空：answer"),
    "only a script": ("faq.jsonl", json.dumps({**FAQS[0], "answer": "<script>alert(1)</script>"}),
                      "entry 1: the answer has no text", "第 1 条：答案没有文字内容"),
    "not a FAQ format": ("faq.pdf", "whatever", "unknown FAQ format pdf", "无法识别的常见问题格式"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_in_both_languages_and_change_nothing(case, kb_settings, tmp_path,
                                                                    capsys):
    existing = tmp_path / "existing.md"
    existing.write_bytes(markdown("library-hours", "图书馆开放时间", "zh",
                                  "## 开放时间\n\n每天九点到二十一点开放。\n"))
    assert main(["--lang", "en", "add", str(existing)]) == 0
    before = sorted(p.name for p in kb_settings.documents_dir.iterdir())
    pointer = kb_settings.current_pointer.read_text()
    name, content, english, chinese = BAD_FILES[case]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    for language, expected in (("en", english), ("zh", chinese)):
        capsys.readouterr()
        assert main(["--lang", language, "import-faq", str(path)]) == 2
        assert expected in capsys.readouterr().err
    assert sorted(p.name for p in kb_settings.documents_dir.iterdir()) == before
    assert kb_settings.current_pointer.read_text() == pointer


def test_a_file_over_the_size_limit_is_refused(kb_settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOV_KB_MAX_FILE_MB", "0.01")
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps({**FAQS[0], "id": f"n{n}"}, ensure_ascii=False)
                              for n in range(200)), encoding="utf-8")
    assert main(["--lang", "zh", "import-faq", str(path)]) == 2
    assert "超过上限" in capsys.readouterr().err
    assert not kb_settings.documents_dir.exists()


def test_html_in_answers_is_reduced_to_text_never_kept_as_markup(kb, tmp_path):
    row = {**FAQS[0], "answer": '<p>带<b>身份证</b>办理。<script>alert("x")</script>'
                                '<img src=x onerror="alert(1)"></p><style>p{}</style>'}
    path = tmp_path / "faq.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    kb.import_faq(path)
    text = kb.show("faq-lib-001").sections[0].text
    assert "带身份证办理。" in text.replace("\n", "")
    assert "<" not in text and "alert" not in text and "onerror" not in text


def test_documents_carry_their_questions_from_front_matter(kb, use_embedder, tmp_path):
    body = ("## 办理条件\n\n在本市居住满半年的外地人员可以申请。\n\n"
            "## 办理步骤\n\n1. 到社区服务中心领表。\n2. 交回表格和照片。\n3. 十个工作日后领取。\n")
    path = tmp_path / "card.md"
    path.write_bytes(markdown("visitor-card", "访客卡办理指南", "zh", body,
                              questions='[访客卡怎么申请, "How do I get a visitor card?"]'))
    kb.add(path)
    assert kb.show("visitor-card").metadata.questions == ("访客卡怎么申请",
                                                         "How do I get a visitor card?")
    hit = Searcher(kb.settings, use_embedder).search("how can I apply for a visitor card", "en")[0]
    assert hit.doc_id == "visitor-card" and hit.question > hit.dense


def test_questions_are_validated():
    raw = {"id": "a-doc", "title": "t", "language": "zh", "department": "d"}
    assert Metadata.from_mapping({**raw, "questions": "问一\n\n问一\n问二"}).questions == ("问一",
                                                                                         "问二")
    with pytest.raises(DocumentError, match="list of texts"):
        Metadata.from_mapping({**raw, "questions": {"a": 1}})
    with pytest.raises(DocumentError, match="at most"):
        Metadata.from_mapping({**raw, "questions": [f"问题{n}" for n in range(500)]})


def test_a_stored_question_does_not_draw_questions_of_the_same_pattern(kb, use_embedder,
                                                                       tmp_path):
    """Two questions of one pattern ("X丢了怎么办") are closer to each other than either is to a
    passage: the guide with a stored question must not win a question its text does not
    answer (search.QUESTION_OFFSET)."""
    id_card = markdown("id-card", "居民身份证补领指南", "zh",
                       "## 补领\n\n居民身份证遗失的，本人携带户口簿到户籍所在地派出所申请补领，"
                       "交纳工本费二十元，二十个工作日内领取新证。\n",
                       questions="[身份证丢了怎么办]")
    deed = markdown("property-deed", "不动产权证书补发指南", "zh",
                    "## 遗失补发\n\n房产证（不动产权证书）遗失的，权利人先在市级报刊或网站刊登"
                    "遗失声明，十五日后携带身份证到不动产登记中心申请补发。\n",
                    department="natural_resources")
    for name, data in (("id.md", id_card), ("deed.md", deed)):
        (tmp_path / name).write_bytes(data)
        kb.add(tmp_path / name)
    searcher = Searcher(kb.settings, use_embedder)
    assert searcher.search("房产证丢了怎么补办", "zh")[0].doc_id == "property-deed"
    assert searcher.search("身份证丢了要怎么办", "zh")[0].doc_id == "id-card"


def test_an_answer_s_first_sentence_counts_only_where_its_questions_are_missing(kb, use_embedder,
                                                                                tmp_path):
    # Imported answers only (as a portal export without its questions), the first sentence of
    # the answer says what the entry is about; with its question, the question does.
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FAQS), encoding="utf-8")
    kb.import_faq(path)
    stored = next(s for s in kb.store.list() if s.metadata.id == "faq-lib-001")
    kb.store.put(stored.path.name, stored.path.read_bytes(),
                 {**stored.metadata.to_mapping(), "questions": []}, replace=True)
    kb.reindex()
    loaded = Searcher(kb.settings, use_embedder).refresh()
    led = loaded.lexical.lead_coverage("借书证押金多少")
    lead_of = {loaded.chunks[i]["doc_id"]: float(led[i]) for i in range(len(loaded.chunks))}
    assert lead_of["faq-lib-001"] > 0  # "持本人身份证到图书馆…押金一百元。": no question left
    assert lead_of["faq-lib-002"] == 0  # its answer names 借书证 too, but its question stays


def test_an_entry_s_question_answer_and_keywords_count_for_its_character_pairs(kb, use_embedder,
                                                                             tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FAQS), encoding="utf-8")
    kb.import_faq(path)
    loaded = Searcher(kb.settings, use_embedder).refresh()
    pairs = loaded.lexical.pair_scores("借書證押金多少")  # Traditional folded
    pairs_of = {loaded.chunks[i]["doc_id"]: float(pairs[i]) for i in range(len(loaded.chunks))}
    assert pairs_of["faq-lib-001"] == 1.0  # 借书证 in its question, 押金 in its answer
    assert 0 < pairs_of["faq-lib-002"] < 1  # 借书证 alone
    assert pairs_of["faq-park-7"] == 0.0
