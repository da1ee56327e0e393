"""The sentence-encoder featurizer gives the classifier meaning, across both languages."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.sentence_encoder_featurizer import SentenceEncoderFeaturizer


@pytest.fixture(scope="module")
def featurizer() -> SentenceEncoderFeaturizer:
    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": 2.0}
    return SentenceEncoderFeaturizer(config, "sentence_encoder")


def sentence_vector(featurizer: SentenceEncoderFeaturizer, text: str) -> np.ndarray:
    message = Message(data={TEXT: text})
    featurizer.process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None
    return sentence.features[0]


def test_vectors_are_512_d_and_scaled(featurizer):
    vector = sentence_vector(featurizer, "怎么办理护照")
    assert vector.shape == (512,)
    assert np.linalg.norm(vector) == pytest.approx(2.0, rel=1e-3)


def test_same_question_in_two_languages_is_closer_than_an_unrelated_one(featurizer):
    zh = sentence_vector(featurizer, "护照过期了怎么换新的")
    en = sentence_vector(featurizer, "how do I renew an expired passport")
    other = sentence_vector(featurizer, "tell me a joke about cats")
    assert zh @ en > zh @ other


def test_traditional_and_simplified_get_the_same_vector(featurizer):
    a = sentence_vector(featurizer, "公積金可以提取嗎")
    b = sentence_vector(featurizer, "公积金可以提取吗")
    assert np.allclose(a, b)


def test_training_data_and_empty_messages(featurizer):
    data = TrainingData([Message(data={TEXT: "你好"}), Message(data={TEXT: ""})])
    featurizer.process_training_data(data)
    assert data.training_examples[0].get_dense_features(TEXT)[1] is not None
    assert data.training_examples[1].get_dense_features(TEXT)[1] is None


def test_scale_must_be_positive():
    with pytest.raises(ValueError):
        SentenceEncoderFeaturizer.validate_config({"scale": 0})


def test_only_the_first_message_limit_of_a_huge_text_is_encoded(featurizer):
    """A text over GOV_MAX_MESSAGE_CHARS that skipped the channels is encoded as its first
    GOV_MAX_MESSAGE_CHARS characters, not in full."""
    from bot.limits import MAX_MESSAGE_CHARS

    head = "护照过期了怎么换新的" * (MAX_MESSAGE_CHARS // 10)
    assert np.allclose(sentence_vector(featurizer, head + "tell me a joke about cats" * 40_000),
                       sentence_vector(featurizer, head))
