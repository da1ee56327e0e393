"""What the recogniser returned, judged before anyone acts on it (speech/trust.py), and the rules
that keep recognition bounded and fair (speech/asr.py, speech/admission.py). No model needed:
the cases are what Whisper was seen to return."""

from __future__ import annotations

import asyncio

import pytest

from speech.admission import Admission, Busy
from speech.asr import (
    _NUMBER_PROMPTS,
    _PROMPTS,
    Reading,
    choose_language,
    choose_reading,
    token_budget,
)
from speech.trust import SegmentSignals, collapse_repeats, is_repetitive, judge

CONFIRM, UNUSABLE = 0.5, 0.2


def heard(*texts: str, logprob: float = -0.3, no_speech: float = 0.05,
          ratio: float = 1.0) -> list[SegmentSignals]:
    return [SegmentSignals(text, logprob, no_speech, ratio) for text in texts]


def verdict(segments: list[SegmentSignals], language: str = "zh", prompt: str | None = None):
    return judge(segments, language, prompt, CONFIRM, UNUSABLE)


@pytest.mark.parametrize("leak", [
    "请问有什么可以帮您？", "请问有什么可以帮您的证明", "以下是普通话的句子。",
    "谢谢观看！", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
])
def test_prompt_and_stock_phrases_are_never_taken_as_speech(leak):
    judged = verdict(heard(leak), prompt=_PROMPTS["zh"])
    assert judged.quality == "unusable" and judged.text == ""


def test_english_stock_phrases_too():
    assert verdict(heard(" Thanks for watching!"), "en").quality == "unusable"


def test_a_leak_beside_real_speech_is_dropped_and_the_rest_read_back():
    judged = verdict(heard("以下是普通话的句子。", "我想办理居住证。"), prompt=_PROMPTS["zh"])
    assert judged.text == "我想办理居住证。"
    assert judged.quality == "check" and "prompt_like" in judged.flags


def test_what_citizens_say_is_not_mistaken_for_the_prompt():
    for said in ("我想办理身份证", "普通话", "以下这个问题", "请问社保怎么交"):
        assert verdict(heard(said), prompt=_PROMPTS["zh"]).quality == "ok", said
    # a number said aloud matches the number prompt's examples only in digits and letters
    number = verdict(heard("G O V 2 0 2 4 0 0 1 2 3 4"), "en", _NUMBER_PROMPTS["en"])
    assert number.quality == "ok"
    assert verdict(heard("二零二四，零零一二三四"), prompt=_NUMBER_PROMPTS["zh"]).text


@pytest.mark.parametrize(("text", "language"), [
    ("让你解释让你解释让你解释让你解释", "zh"),
    ("社保、医炫、社保、医保、社保、医保、社保、医保", "zh"),
    ("I want to I want to I want to I want to", "en"),
])
def test_loops_are_repetition(text, language):
    assert is_repetitive(text, language)
    judged = verdict(heard(text), language)
    assert judged.quality != "ok" and "repetition" in judged.flags
    assert len(judged.text) < len(text)


def test_ordinary_repeats_are_not_loops():
    for text in ("是的是的", "我想问一下社保和医保的问题", "2000000", "尾号5555"):
        assert not is_repetitive(text, "zh"), text
    assert collapse_repeats("申请号是2024000111") == "申请号是2024000111"
    assert not is_repetitive("What documents do I need for a business licence?", "en")


def test_a_high_compression_ratio_is_a_loop_even_if_it_reads_well():
    assert "repetition" in verdict(heard("一个句子", ratio=2.8)).flags


@pytest.mark.parametrize(("logprob", "quality"), [(-0.2, "ok"), (-0.5, "ok"), (-0.9, "check"),
                                                  (-1.4, "check"), (-1.8, "unusable")])
def test_confidence_decides_between_acting_reading_back_and_asking_again(logprob, quality):
    assert verdict(heard("我想问一下养老金", logprob=logprob)).quality == quality


def test_silent_segments_are_dropped():
    segments = [*heard("我想问一下养老金"), SegmentSignals("嗯嗯", -1.5, 0.9, 1.0)]
    judged = verdict(segments)
    assert judged.text == "我想问一下养老金" and judged.quality == "ok"
    assert verdict([SegmentSignals("谢谢", -1.5, 0.9, 1.0)]).quality == "unusable"


@pytest.mark.parametrize(("probabilities", "page", "chosen"), [
    ({"zh": 0.98, "en": 0.01}, "en", "zh"),  # Mandarin on the English page
    ({"en": 0.97, "zh": 0.02}, "zh", "en"),  # English on the Chinese page
    ({"zh": 0.5, "en": 0.4, "ja": 0.1}, "en", "en"),  # a near tie keeps the page's
    ({"ja": 0.9, "zh": 0.06, "en": 0.04}, "en", "en"),  # only Mandarin or English
    ({"en": 0.6, "zh": 0.3}, None, "en"),
])
def test_the_spoken_language_wins_unless_it_is_a_near_tie(probabilities, page, chosen):
    assert choose_language(probabilities, page, 0.7) == chosen


def _reading(language: str, text: str, logprob: float, tokens: int,
             no_speech: float = 0.05) -> Reading:
    segments = [SegmentSignals(text, logprob, no_speech, 1.0, tokens)]
    return Reading(language, segments, judge(segments, language, _PROMPTS[language], CONFIRM,
                                             UNUSABLE))


def test_a_short_recording_keeps_the_reading_the_decoder_finds_likelier():
    """Seen on 好的 and Yes: log P(language) + the decoder's log-probability decides, not the
    page; a refused reading (here Whisper's silence credit) never replaces the page's."""
    greeting = {"zh": _reading("zh", "好的。", -0.45, 3), "en": _reading("en", "Hold on.", -0.8, 4)}
    shares = {"zh": 0.6, "en": 0.4}
    assert choose_reading(greeting, "en", shares).language == "zh"
    assert choose_reading(greeting, "zh", shares).language == "zh"
    yes = {"zh": _reading("zh", "爷爷。", -1.1, 4), "en": _reading("en", "Yes.", -0.5, 2)}
    assert choose_reading(yes, "zh", {"zh": 0.3, "en": 0.7}).language == "en"
    credit = {"zh": _reading("zh", "谢谢观看。", -0.1, 4), "en": _reading("en", "Ok.", -1.2, 2)}
    assert credit["zh"].verdict.quality == "unusable"
    assert choose_reading(credit, "en", {"zh": 0.9, "en": 0.1}).language == "en"
    silent = {"zh": _reading("zh", "嗯。", -1.5, 2, no_speech=0.9),
              "en": _reading("en", "Hmm.", -0.9, 2)}
    assert choose_reading(silent, "zh", {"zh": 0.2, "en": 0.8}).language == "en"
    nothing = {"zh": _reading("zh", "", 0.0, 0), "en": _reading("en", "", 0.0, 0)}
    assert choose_reading(nothing, "zh", {"zh": 0.1, "en": 0.9}).language == "zh"


def test_a_word_or_two_on_the_mandarin_page_keeps_the_pages_reading():
    """Under WORD_OR_TWO_SECONDS a Mandarin 好的 that decodes poorly on the Mandarin page is
    not read back as English "Hold on"; on the English page the likelier reading still wins."""
    poor = {"zh": _reading("zh", "好嘎。", -2.5, 3), "en": _reading("en", "Hold on.", -0.9, 3)}
    shares = {"zh": 0.45, "en": 0.55}
    assert choose_reading(poor, "zh", shares).language == "en"  # the likelihood rule alone
    assert choose_reading(poor, "zh", shares, 0.5).language == "zh"
    assert choose_reading(poor, "zh", shares, 1.2).language == "en"
    greeting = {"zh": _reading("zh", "你好。", -0.4, 2),
                "en": _reading("en", "You're home.", -2.2, 4)}
    assert choose_reading(greeting, "en", {"zh": 0.4, "en": 0.6}, 0.6).language == "zh"


def test_decoding_budget_grows_with_the_audio_and_stops_at_a_window():
    assert token_budget(2, 8) < token_budget(10, 8) < token_budget(30, 8)
    assert token_budget(60, 8) == token_budget(30, 8) <= 252  # per 30-s window
    assert token_budget(1, 8) >= 20  # a one-word answer still fits


def test_admission_queues_in_order_and_refuses_beyond_the_line():
    async def scenario() -> list[str]:
        admission, order = Admission(workers=1, queue=1), []
        release = asyncio.Event()

        async def caller(name: str) -> None:
            async with admission.turn():
                order.append(name)
                await release.wait()

        first = asyncio.create_task(caller("first"))
        await asyncio.sleep(0)
        second = asyncio.create_task(caller("second"))
        await asyncio.sleep(0)
        assert admission.inside == 2
        with pytest.raises(Busy):
            async with admission.turn():
                pass
        release.set()
        await asyncio.gather(first, second)
        assert admission.inside == 0
        return order

    assert asyncio.run(scenario()) == ["first", "second"]


@pytest.mark.parametrize(("heard", "meant"), [
    ("公鸡金怎么提取", "公积金怎么提取"), ("我想办理营业职账", "我想办理营业执照"),
    ("高龄金贴怎么申请", "高龄津贴怎么申请"), ("港澳通行正过期了", "港澳通行证过期了"),
    ("我想查循申请进度吗", "我想查询申请进度吗"), ("买一包烟", "买一包烟"), ("公积金", "公积金"),
    ("我想问一下", "我想问一下"), ("攻击间可以提取吗?", "公积金可以提取吗?"),
    ("他们互相攻击", "他们互相攻击"), ("我在房间里", "我在房间里"),
])
def test_public_service_words_are_put_back_by_sound(heard, meant):
    from common.domain_words import restore_domain_words

    assert restore_domain_words(heard) == meant
