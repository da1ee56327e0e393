"""A tokenizer for Chinese, English and mixed messages, written in Simplified or Traditional.

Rasa's JiebaTokenizer feeds raw text to jieba: Traditional characters then segment badly and
share no features with the (mostly Simplified) training data, full-width letters differ from
ASCII ones, and spaces come out as tokens. This tokenizer folds the text first
(`bot.text.normalize`, which keeps character offsets), segments it with jieba plus the
project's dictionary of government terms (`bot.segmentation`), and drops whitespace and
punctuation tokens. Text beyond the message limit (`bot.limits`) is not tokenized: jieba's
time grows with the text, and the channels never pass longer messages anyway.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.limits import bounded
from bot.segmentation import segmenter
from bot.text import normalize


def _is_word(piece: str) -> bool:
    return any(char.isalnum() for char in piece)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class BilingualTokenizer(Tokenizer):
    """Normalising jieba tokenizer for zh / en / mixed text."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["jieba", "opencc"]

    @staticmethod
    def supported_languages() -> List[str] | None:
        return None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualTokenizer:
        segmenter()  # up front, so the first citizen does not wait for jieba to load
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = normalize(bounded(message.get(attribute) or ""))
        pieces = [(w, s) for w, s, _ in segmenter().tokenize(text) if w.strip()]
        words = [(w, s) for w, s in pieces if _is_word(w)]
        # A message of only symbols ("👍", "？？？") keeps them: every message needs a feature.
        tokens = [Token(word, start) for word, start in (words or pieces)]
        return self._apply_token_pattern(tokens)
