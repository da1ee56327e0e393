from __future__ import annotations

from knowledge_base.chunking import chunk_document, split_sentences
from knowledge_base.documents import Document, Metadata, Section


def doc(text: str, language: str = "zh") -> Document:
    meta = Metadata(id="d-1", title="标题", language=language, department="health")
    return Document(meta, (Section(("标题", "办理时限"), text),))


def test_sentences_split_at_chinese_and_english_ends():
    assert split_sentences("第一句。第二句！第三句？第四；Fifth. Sixth! ok") == [
        "第一句。", "第二句！", "第三句？", "第四；", "Fifth.", "Sixth!", "ok"]


def test_decimal_points_do_not_split():
    assert split_sentences("The fee is 12.5 yuan. Pay online.") == [
        "The fee is 12.5 yuan.", "Pay online."]


def test_chunks_respect_the_limit_break_at_sentences_and_overlap():
    text = "".join(f"这是第{i}句话，内容比较长一些用于测试分块。" for i in range(40))
    chunks = chunk_document(doc(text), max_chars=100, overlap=1)
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(chunk.text) <= 100 + 30
        assert chunk.text.endswith("。")
        assert chunk.headings == ("标题", "办理时限")
    first_last = split_sentences(chunks[0].text)[-1]
    assert split_sentences(chunks[1].text)[0] == first_last
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_overlong_sentence_is_wrapped():
    chunks = chunk_document(doc("长" * 1000), max_chars=300)
    assert all(len(c.text) <= 300 for c in chunks)
    assert "".join(c.text for c in chunks[:1])[:10] == "长" * 10


def test_content_hash_changes_with_text_or_heading():
    a = chunk_document(doc("一句话。"))[0]
    b = chunk_document(doc("另一句话。"))[0]
    assert a.content_hash != b.content_hash
    assert a.content_hash == chunk_document(doc("一句话。"))[0].content_hash


def test_paragraphs_list_items_and_table_rows_keep_their_lines():
    """A quoted passage reads as the document did: sentences of one paragraph run on, a new
    paragraph, a list item or a table row starts a new line."""
    text = ("年满80周岁的老年人：\n• 具有本市户籍；\n• 持有居住证。\n"
            "80—89周岁：每人每月100元。\n90—99周岁：每人每月300元。\n"
            "按月发放。次月补发。")
    [chunk] = chunk_document(doc(text))
    assert chunk.text.split("\n") == [
        "年满80周岁的老年人：", "• 具有本市户籍；", "• 持有居住证。", "80—89周岁：每人每月100元。",
        "90—99周岁：每人每月300元。", "按月发放。次月补发。"]
    [english] = chunk_document(doc("Bring your ID card. Bring a photo.\nFees are waived.", "en"))
    assert english.text == "Bring your ID card. Bring a photo.\nFees are waived."


def test_a_preamble_that_only_repeats_the_title_or_a_dateline_is_not_a_passage():
    meta = Metadata(id="d-2", title="低保申请指南", language="zh", department="civil_affairs")
    sections = (Section(("低保申请指南",), "滨江市低保申请指南"),
                Section(("低保申请指南", "保障标准"), "每人每月1080元。"))
    chunks = chunk_document(Document(meta, sections))
    assert [c.text for c in chunks] == ["每人每月1080元。"]
    assert chunks[0].position == 0 and chunks[0].id == "d-2#0"
    english = Document(Metadata(id="d-3", title="Street lights", language="en",
                                department="urban_management"),
                       (Section(("Street lights",), "Last updated: 20 August 2025"),
                        Section(("Street lights",), "Call 12345 to report a broken light.")))
    assert [c.text for c in chunk_document(english)] == ["Call 12345 to report a broken light."]


def test_a_preamble_with_a_sentence_or_a_document_of_one_line_is_kept():
    meta = Metadata(id="d-4", title="通知", language="zh", department="health")
    said = Document(meta, (Section(("通知",), "本指南适用于全市。"),))
    assert [c.text for c in chunk_document(said)] == ["本指南适用于全市。"]
    only_line = Document(meta, (Section(("通知",), "疫苗接种时间调整"),))
    assert [c.text for c in chunk_document(only_line)] == ["疫苗接种时间调整"]


def test_a_list_items_trailing_and_stays_with_the_item():
    """"…living costs; and" ends an item: split there, the next passage opened with "and"
    and the answer quoted from it left out the item before it."""
    assert split_sentences("• the living subsidy, for daily costs; and") == [
        "• the living subsidy, for daily costs; and"]
    assert split_sentences("• 申请人本人到场；以及") == ["• 申请人本人到场；以及"]
    assert split_sentences("• 带身份证；\n• 带照片。") == ["• 带身份证；", "• 带照片。"]


def test_a_passage_that_can_begin_a_list_item_does_not_begin_inside_the_one_before():
    items = "\n".join(f"• 第{i}项材料需要本人签字确认。提交原件和复印件各一份。" for i in range(8))
    chunks = chunk_document(doc(items), max_chars=100, overlap=1)
    assert len(chunks) > 2
    assert all(chunk.text.startswith("• ") for chunk in chunks)
    starts = [chunk.text.split("\n")[0] for chunk in chunks]
    assert len(set(starts)) == len(starts)  # each passage begins at a new item
