"""What the router reads in a long letter, and how its training counts examples: the pooled
sentence vectors keep the one sentence that states the problem; rare n-grams are dropped only
when there is enough data; a city's own records can count more than written examples; every
department has letter-style examples in both languages; the temperature comes from folds that
leave out one topic of every department."""

from __future__ import annotations

import numpy as np
import yaml

from routing import classifier
from routing.classifier import DepartmentRouter, load_examples, shipped_files
from routing.text import segments

DEPARTMENTS = [row["id"] for row in
               yaml.safe_load(open("storage/seed/departments.yml", encoding="utf-8"))
               ["departments"]]


class KeywordEmbedder:
    """A transparent stand-in for the sentence encoder: one dimension per keyword present."""

    name = "keywords"
    KEYWORDS = ("路灯", "工资", "学校", "医院", "谢谢", "小区", "噪声", "公交")
    dimension = len(KEYWORDS)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.array([[float(k in t) for k in self.KEYWORDS] for t in texts]) + 1e-3
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


LETTER = ("反映一个情况\n"
          "尊敬的领导：您好！我住在江北区某小区，已经在这里住了十年。小区环境一直不错。"
          "邻居们都很友善。门口的路灯坏了两个星期。晚上出门很不方便。")


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_a_letter_is_read_as_the_pooled_mean_and_maximum_of_its_sentences():
    vector = DepartmentRouter(KeywordEmbedder()).embed([LETTER])[0]
    half = KeywordEmbedder.dimension
    assert vector.shape == (2 * half,) and np.isclose(np.linalg.norm(vector), 1.0)
    subject, body = segments(LETTER)
    assert subject == "反映一个情况" and len(body) >= 4
    pieces = KeywordEmbedder().encode([subject, *body])
    weights = np.array([classifier.SUBJECT_WEIGHT] + [1.0] * len(body))[:, None]
    mean, peak = vector[:half] * np.sqrt(2), vector[half:] * np.sqrt(2)
    assert np.allclose(mean, unit((pieces * weights).sum(axis=0)), atol=1e-5)
    assert np.allclose(peak, unit(pieces.max(axis=0)), atol=1e-5)
    # one sentence in six names the problem: the maximum keeps it, the mean dilutes it
    lamp = KeywordEmbedder.KEYWORDS.index("路灯")
    assert peak[lamp] > mean[lamp] + 0.1


def test_a_one_sentence_request_gives_the_same_vector_both_ways():
    vector = DepartmentRouter(KeywordEmbedder()).embed(["学校乱收费"])[0]
    half = KeywordEmbedder.dimension
    assert np.allclose(vector[:half], vector[half:])


def test_rare_ngrams_are_dropped_only_when_there_is_enough_data():
    texts = ["路灯坏了"] * classifier.MIN_DF_FROM + ["学校乱收费", "学校乱收费，独一无二"]
    labels = ["urban_management"] * classifier.MIN_DF_FROM + ["education"] * 2
    embedder = KeywordEmbedder()
    big = DepartmentRouter(embedder).fit(list(zip(texts, labels, strict=True)), calibrate=False)
    assert "独一" not in big._ngrams.vocabulary_ and "乱收费" in big._ngrams.vocabulary_
    small = DepartmentRouter(embedder).fit([("路灯坏了", "urban_management"),
                                            ("学校乱收费，独一无二", "education")],
                                           calibrate=False)
    assert "独一" in small._ngrams.vocabulary_


def test_weighted_examples_outvote_unweighted_ones():
    """Two records say one thing, one says another: the weight decides (an imported city's
    records are weighted over our written examples, importer.HISTORY_WEIGHT)."""
    embedder = KeywordEmbedder()
    examples = [("小区噪声", "urban_management"), ("小区噪声", "urban_management"),
                ("小区噪声", "ecology_environment"), ("学校", "education")]
    router = DepartmentRouter(embedder)
    grams, dense = router.ngram_texts([t for t, _ in examples]), router.embed(
        [t for t, _ in examples])
    labels = [d for _, d in examples]
    plain = DepartmentRouter(embedder).fit_features(grams, dense, labels, calibrate=False)
    assert plain.predict(["小区噪声"])[0].department == "urban_management"
    weighted = DepartmentRouter(embedder).fit_features(
        grams, dense, labels, calibrate=False, weights=np.array([1.0, 1.0, 5.0, 1.0]))
    assert weighted.predict(["小区噪声"])[0].department == "ecology_environment"


def test_every_department_has_letters_in_both_languages():
    letters = [path for path in shipped_files() if path.name.startswith("letters")]
    assert len(letters) >= 2
    for path in letters:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))["departments"]
        assert set(data) <= set(DEPARTMENTS)
    shipped = load_examples()
    for department in DEPARTMENTS:
        long_ones = [t for t, d in shipped if d == department and "\n" in t]
        assert any(any("\u4e00" <= c <= "\u9fff" for c in t) for t in long_ones), department
        assert any(t.isascii() for t in long_ones), department


def test_a_broken_street_light_goes_to_urban_management_in_either_language():
    """Street lights are urban management's, traffic lights the traffic police's: the sentence
    encoder puts the two close, and "小区" said in English ("our community") once sent a
    street-light complaint to the police with confidence 0.99."""
    router = classifier.default_router()
    for text in ("小区门口的路灯坏了两个星期了",
                 "小區門口的路燈壞了兩個星期了",
                 "The street lights at our community gate have been broken for two weeks.",
                 "The street light at the entrance of our estate has been out for two weeks."):
        assert router.rank(text, 3)[0].department == "urban_management", text
    assert router.rank("The traffic lights at our junction have been broken for two days.",
                       3)[0].department == "public_security"


def test_a_closing_plea_that_names_no_one_is_not_read_as_the_problem():
    """Every department's letters end with "please investigate"; it must not decide."""
    _, body = segments("My platform docked 800 yuan from my pay. Is this legal? "
                       "I want someone to investigate.")
    assert body == ["My platform docked 800 yuan from my pay."]
    _, body = segments("外卖平台扣了我八百块。请有关部门尽快调查处理。")
    assert body == ["外卖平台扣了我八百块。"]
    kept = "Please ask the police to investigate. 请城管部门尽快维修路灯。"
    assert len(segments(kept)[1]) == 2


def _fitted(examples, weights, remember=None):
    embedder = KeywordEmbedder()
    router = DepartmentRouter(embedder)
    texts = [t for t, _ in examples]
    return DepartmentRouter(embedder).fit_features(
        router.ngram_texts(texts), router.embed(texts), [d for _, d in examples],
        calibrate=False, weights=weights, remember=remember)


def test_remembered_records_vote_for_the_department_that_handled_them():
    """A city's record of a recurring problem (the same estate's drains, filed with housing)
    pulls a new letter about it there, although the written examples say otherwise; without
    memory the model alone decides. The memory survives saving and loading."""
    written = [("下水道堵了", "urban_management"), ("路边下水道堵塞，污水横流", "urban_management"),
               ("小区门口的下水道堵了", "urban_management"), ("路灯坏了", "urban_management"),
               ("学校收费", "education"), ("老师体罚", "education"),
               ("物业不修电梯", "housing_urban_rural"), ("开发商延期交房", "housing_urban_rural")]
    records = [("金桂花园小区地下车库下水道堵了，物业不管", "housing_urban_rural"),
               ("金桂花园小区下水道又堵了，污水进了车库", "housing_urban_rural")]
    examples = written + records
    remember = np.array([False] * len(written) + [True] * len(records))
    # The records count little in the model itself, so what changes is the memory's vote.
    weights = np.where(remember, 0.05, 1.0)
    letter = ["金桂花园小区车库下水道堵了一个月"]
    plain = _fitted(examples, weights)
    with_memory = _fitted(examples, weights, remember)
    assert plain.remembered == 0 and with_memory.remembered == 2
    housing = with_memory.departments.index("housing_urban_rural")
    assert plain.predict(letter)[0].department == "urban_management"
    assert with_memory.predict(letter)[0].department == "housing_urban_rural"
    votes = with_memory.neighbour_vote(with_memory._ngram_vectors(
        with_memory.ngram_texts(letter)))
    assert np.isclose(votes.sum(), 1.0) and votes[0, housing] == 1.0
    loaded = DepartmentRouter.from_parameters(with_memory.parameters(), KeywordEmbedder())
    assert loaded.remembered == 2
    assert np.allclose(loaded.probabilities(letter), with_memory.probabilities(letter))
    assert DepartmentRouter.from_parameters(plain.parameters(), KeywordEmbedder()).remembered == 0


def test_the_ask_threshold_keeps_a_margin_that_shrinks_with_more_evidence():
    """Routings above the threshold must be right `precision` of the time on the next
    messages too: the threshold is set by a lower bound of the held-out precision, which
    asks more when the held-out sample is small and converges to the plain estimate."""
    def sample(repeat):
        # 20 confident right, then 19 right and 1 wrong per block of confidence 0.9 … 0.5
        confidence = np.concatenate([np.full(20, 0.99)] + [np.full(20, c) for c in
                                                           (0.9, 0.8, 0.7, 0.6, 0.5)])
        correct = np.concatenate([np.ones(20)] + [np.r_[np.ones(19), 0] for _ in range(5)])
        return np.tile(confidence, repeat), np.tile(correct, repeat).astype(bool)

    small, small_right = sample(1)
    plain = classifier.choose_ask_threshold(small, small_right, 0.95, z=0)
    bounded = classifier.choose_ask_threshold(small, small_right, 0.95)
    assert plain == 0.5 and bounded > plain
    large, large_right = sample(40)
    assert (classifier.choose_ask_threshold(large, large_right, 0.95)
            < bounded)


def test_topic_held_out_folds_leave_out_one_topic_of_every_department():
    rng = np.random.default_rng(3)
    # Two departments, each with 5 well-separated topics of 6 examples.
    centres = rng.normal(size=(10, 16)) * 10
    dense = np.vstack([centre + rng.normal(size=(6, 16)) for centre in centres])
    gold = np.repeat([0, 1], 30)
    assigned = classifier._topic_folds(dense, gold)
    assert assigned is not None
    topic = np.repeat(np.arange(10), 6)
    for department in (0, 1):
        members = gold == department
        # each fold holds out exactly one whole topic of the department
        assert sorted(set(assigned[members])) == list(range(classifier.TOPIC_FOLDS))
        for t in set(topic[members]):
            assert len(set(assigned[topic == t])) == 1
    # too few examples to find topics: no topic folds (the stratified ones are used)
    assert classifier._topic_folds(dense[::6], gold[::6]) is None


def test_the_temperature_comes_from_the_unfamiliar_scores_and_the_threshold_from_the_others():
    gold = np.repeat([0, 1], 50)
    familiar = np.column_stack([np.where(gold == 0, 1.0, -1.0), np.where(gold == 0, -1.0, 1.0)])
    # On unfamiliar topics the same confident scores are right only 60% of the time.
    unfamiliar = familiar.copy()
    unfamiliar[::5] *= -1
    unfamiliar[1::5] *= -1
    router = DepartmentRouter(KeywordEmbedder())
    router.calibrate(familiar, gold, 0.9)
    sure = router.temperature
    router.calibrate(familiar, gold, 0.9, (unfamiliar, gold))
    assert router.temperature > sure * 4
    probabilities = router.calibrated(familiar)
    assert abs(probabilities.max(axis=1).mean() - 0.6) < 0.05
    assert router.ask_below <= probabilities.max(axis=1).min()  # familiar ones go without asking


def test_the_confidence_map_flattens_confidence_that_overstates_and_keeps_the_order():
    """On unseen topics being right varies less with the confidence than a temperature can
    say (sure answers too sure, unsure ones too unsure): the map fitted on such held-out
    predictions has a slope below one, and the mapped probabilities keep every department's
    rank while the top one takes the mapped value."""
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 3, (400, 4))
    top = scores.argmax(axis=1)
    sure = _softmax_top(scores)
    # right with probability 0.3 + 0.5 * confidence: flatter than the confidence itself
    right = rng.random(400) < 0.3 + 0.5 * sure
    gold = np.where(right, top, (top + 1) % 4)
    probabilities = classifier._softmax(scores)
    intercept, slope = classifier.fit_confidence_map(probabilities, gold)
    assert 0 < slope < 0.9
    mapped = classifier.with_top_confidence(scores, (intercept, slope))
    assert np.allclose(mapped.sum(axis=1), 1)
    assert (np.argsort(-mapped, axis=1) == np.argsort(-probabilities, axis=1)).all()
    expected = 1 / (1 + np.exp(-(intercept + slope * classifier._log_odds(sure))))
    assert np.allclose(mapped.max(axis=1), np.maximum(expected, 0.25 + 1e-6), atol=1e-4)
    # closer to how often it is right than the unmapped confidence
    assert abs(mapped.max(axis=1).mean() - right.mean()) < abs(sure.mean() - right.mean())
    # all right (or all wrong) says nothing about the shape: identity
    assert classifier.fit_confidence_map(probabilities, top) == (0.0, 1.0)
    assert np.allclose(classifier.with_top_confidence(scores, (0.0, 1.0)), probabilities)


def test_the_confidence_map_is_saved_with_the_model():
    router = DepartmentRouter(KeywordEmbedder()).fit(
        [("路灯坏了", "urban_management"), ("工资拖欠", "human_resources_social_security")] * 3,
        calibrate=False)
    router.confidence_map = (0.2, 0.7)
    again = DepartmentRouter.from_parameters(router.parameters(), KeywordEmbedder())
    assert again.confidence_map == (0.2, 0.7)
    older = {k: v for k, v in router.parameters().items() if k != "confidence_map"}
    assert DepartmentRouter.from_parameters(older, KeywordEmbedder()).confidence_map == (0.0, 1.0)


def _softmax_top(scores: np.ndarray) -> np.ndarray:
    return classifier._softmax(scores).max(axis=1)
