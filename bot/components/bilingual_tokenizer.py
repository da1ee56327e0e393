"""A tokenizer for Chinese, English and mixed messages, written in Simplified or Traditional.

Rasa's JiebaTokenizer feeds raw text to jieba: Traditional characters then segment badly and
share no features with the (mostly Simplified) training data, full-width letters differ from
ASCII ones, and spaces come out as tokens. This tokenizer folds the text first
(`bot.text.normalize`, which keeps character offsets), segments it with jieba plus the
project's dictionary of government terms, and drops whitespace and punctuation tokens.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text import normalize

logger = logging.getLogger(__name__)

DEFAULT_DICTIONARY = Path(__file__).resolve().parent.parent / "jieba_dict.txt"


def _is_word(piece: str) -> bool:
    return any(char.isalnum() for char in piece)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class BilingualTokenizer(Tokenizer):
    """Normalising jieba tokenizer for zh / en / mixed text."""

    _jieba_ready = False

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "dictionary_path": str(DEFAULT_DICTIONARY),
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
        cls._prepare_jieba(config.get("dictionary_path"))
        return cls(config)

    @classmethod
    def _prepare_jieba(cls, dictionary_path: str | None) -> None:
        """Load jieba once per process, up front, so the first citizen does not wait for it."""
        if cls._jieba_ready:
            return
        import jieba

        cache_dir = os.environ.get("GOV_ASSISTANT_CACHE_DIR")
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = cache_dir
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        if dictionary_path and Path(dictionary_path).is_file():
            jieba.load_userdict(dictionary_path)
        cls._jieba_ready = True

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        import jieba

        text = normalize(message.get(attribute) or "")
        tokens = [
            Token(word, start)
            for word, start, _end in jieba.tokenize(text)
            if _is_word(word)
        ]
        return self._apply_token_pattern(tokens)
