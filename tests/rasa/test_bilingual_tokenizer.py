"""The custom tokenizer, run inside the Rasa environment with Rasa's own Message type."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.bilingual_tokenizer import BilingualTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> BilingualTokenizer:
    return BilingualTokenizer.create(BilingualTokenizer.get_default_config(), None, None, None)


def words(tokenizer: BilingualTokenizer, text: str) -> list[str]:
    return [token.text for token in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]


def test_traditional_and_simplified_give_the_same_tokens(tokenizer):
    assert words(tokenizer, "公積金可以提取嗎") == words(tokenizer, "公积金可以提取吗")


def test_domain_terms_stay_whole(tokenizer):
    assert "营业执照" in words(tokenizer, "怎么办理营业执照")
    assert "转人工" in words(tokenizer, "我要转人工")


def test_mixed_text_drops_spaces_and_punctuation(tokenizer):
    tokens = words(tokenizer, "我想办 Business License！")
    assert tokens == ["我", "想", "办", "business", "license"]


def test_offsets_point_into_the_original_text(tokenizer):
    text = "請查ＧＯＶ－２０２４－００１２３４的進度"
    tokens = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    for token in tokens:
        assert len(text[token.start:token.end]) == len(token.text)
    assert [t.text for t in tokens if t.text.isdigit()] == ["2024", "001234"]


def test_empty_and_symbol_only_messages(tokenizer):
    assert words(tokenizer, "") == []
    assert words(tokenizer, "👍") == ["👍"]
    assert words(tokenizer, "好的👍") == ["好", "的"]


def test_text_beyond_the_message_limit_is_not_tokenized(tokenizer):
    """Whatever path a huge text takes, jieba only ever sees the first GOV_MAX_MESSAGE_CHARS."""
    from bot.limits import MAX_MESSAGE_CHARS

    text = "路灯坏了" * (MAX_MESSAGE_CHARS // 4) + "营业执照" * 50_000
    tokens = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    assert tokens and max(token.end for token in tokens) <= MAX_MESSAGE_CHARS
    assert "营业执照" not in {token.text for token in tokens}
