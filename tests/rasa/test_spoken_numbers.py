"""Reference numbers said aloud, in either language, as a recogniser writes them down: each
must come out as the one number it is (speech.spoken_text.from_speech, then the form's parser
through channels.voice_turns.number_heard), and one group of it can be corrected."""

from __future__ import annotations

import pytest

from channels.voice_turns import corrected_number, group_named, number_heard
from speech.spoken_text import from_speech, spoken_digits

APPLICATION, TICKET = "GOV-2024-001234", "T-20261123-004211"

SAID = [
    # Mandarin: digits as characters, 〇 / 幺 / 两 / 洞 / 拐, the letters spelled or sounded
    ("G O V 二零二四 零零一二三四", APPLICATION),
    ("G O V 二〇二四 〇〇一二三四", APPLICATION),
    ("申请号是GOV二零二四零零幺二三四", APPLICATION),
    ("吉欧维 二零二四 零零一二三四", APPLICATION),
    ("即欧为二零二四零零一二三四", APPLICATION),
    ("G O V 两零二四 零零一二三四", APPLICATION),
    ("GOV 二零二四 洞洞幺二三四", APPLICATION),
    ("G O V 二零二四年 零零一二三四", APPLICATION),
    ("GOV 两千零二十四 零零一二三四", APPLICATION),
    ("GOV 二零 二四 零零 一二 三四", APPLICATION),
    ("二 零 二 四 零 零 一 二 三 四", APPLICATION),
    ("二、零、二、四、零、零、一、二、三、四", APPLICATION),
    ("GOV，二零二四，零零一，二三四", APPLICATION),
    ("申请号是GOV-二零二四-零零一二三四", APPLICATION),
    ("申请号G O V，2024，001，234", APPLICATION),
    ("G O V 2024 零零一 234", APPLICATION),
    ("申请号：2024：001234。", APPLICATION),
    ("T 二零二六一一二三 零零四二一一", TICKET),
    ("提 二零二六 一一二三 零零四二幺幺", TICKET),
    ("工单号T二零二六一一二三零零四二一一", TICKET),
    ("踢，二〇二六，一一二三，〇〇四，二一一", TICKET),
    # English: digit words, "oh", "double", pairs, "two thousand and", letters spelled
    ("gov twenty twenty-four zero zero one two three four", APPLICATION),
    ("G O V 2 0 2 4 0 0 1 2 3 4", APPLICATION),
    ("g o v two oh two four oh oh one two three four", APPLICATION),
    ("gov two zero two four double zero one two three four", APPLICATION),
    ("gee oh vee twenty twenty four, zero zero one, two three four", APPLICATION),
    ("GOV, twenty twenty-four, double oh one, two three four", APPLICATION),
    ("GOV two thousand and twenty-four zero zero one two three four", APPLICATION),
    ("GOV two thousand twenty four 001234", APPLICATION),
    ("GOV 2024 double 0 1234", APPLICATION),
    ("Two. Zero. Two. Four. Zero. Zero. One. Two. Three. Four.", APPLICATION),
    ("G. O. V. 2. 0. 2. 4. 0. 0. 1. 2. 3. 4.", APPLICATION),
    ("the number is G-O-V 2024-001-234", APPLICATION),
    ("It's G O V, 2024 001234", APPLICATION),
    ("GeoV 2024 001234", APPLICATION),
    ("GOV 20 24 00 12 34", APPLICATION),
    ("My number is gov two oh two four, nought nought one, two three four.", APPLICATION),
    ("T 2 0 2 6 1 1 2 3 0 0 4 2 1 1", TICKET),
    ("The ticket number is T, 20261123, 004211.", TICKET),
    ("tee twenty twenty-six eleven twenty-three double oh four two one one", TICKET),
    ("t twenty twenty-six, one one, two three, zero zero four, two one one", TICKET),
    ("TEE 2026 1123 004211", TICKET),
    ("T-2026-1123-004-211", TICKET),
    # cut into sentences by the recogniser, or after a prefix heard as digits
    ("2024。001。234。", APPLICATION),
    ("七楼比。2024。001234。", APPLICATION),
    ("768。2024。001234。", APPLICATION),
    ("公单号视题。20261123。004211。", TICKET),
    # not a whole reference: nothing is guessed
    ("申请号是2024", None),
    ("GOV twenty five thirty three fifty zero three", None),
    ("我想查询申请进度", None),
    ("GOV 2024 00123", None),
    ("G-O-B。2026。209。1088。", None),
    ("公单号视题。2020009。12897。", None),
]


@pytest.mark.parametrize(("heard", "number"), SAID)
def test_a_reference_said_aloud_is_one_exact_number(heard, number):
    assert number_heard(from_speech(heard), "reference_number") == number


@pytest.mark.parametrize(("heard", "kept"), [
    ("I have two children and one dog", "I have two children and one dog"),
    ("我要两个", "我要两个"),
    ("第一、二、三条", "第一、二、三条"),  # a list, not a number
    ("补贴两千元", "补贴两千元"),
    ("He paid two thousand five hundred", "He paid two thousand five hundred"),
    ("上午9:30开门", "上午9:30开门"),
])
def test_words_that_are_not_reference_numbers_stay_as_they_were(heard, kept):
    assert from_speech(heard) == kept


@pytest.mark.parametrize(("said", "digits"), [
    ("是二 三 五", "235"), ("is two three five.", "235"), ("double five three", "553"),
    ("2 3 5", "235"), ("是幺洞拐", "107"), ("is five, three, oh", "530"),
])
def test_the_digits_of_a_short_group_however_said(said, digits):
    assert spoken_digits(said) == digits


@pytest.mark.parametrize(("number", "said", "fixed"), [
    (APPLICATION, "最后一段是二三五", "GOV-2024-001235"),
    (APPLICATION, "最后一段是 2 3 5", "GOV-2024-001235"),
    (APPLICATION, "后三位是二三五", "GOV-2024-001235"),
    (APPLICATION, "最后三位是235", "GOV-2024-001235"),
    (APPLICATION, "第二段是二零二五", "GOV-2025-001234"),
    (APPLICATION, "第三段是幺洞洞", "GOV-2024-100234"),
    (APPLICATION, "第四组是二三五", "GOV-2024-001235"),
    (APPLICATION, "the last part is 2 3 5", "GOV-2024-001235"),
    (APPLICATION, "The last part is two three five.", "GOV-2024-001235"),
    (APPLICATION, "The last three digits are two three five", "GOV-2024-001235"),
    (APPLICATION, "the final bit is double three five", "GOV-2024-001335"),
    (APPLICATION, "part two is twenty twenty five", "GOV-2025-001234"),
    (APPLICATION, "the second part is 2025", "GOV-2025-001234"),
    (TICKET, "最后一段是二三五", "T-20261123-004235"),
    (TICKET, "第三段是一二二四", "T-20261224-004211"),
    (TICKET, "the third part is 1 2 2 4", "T-20261224-004211"),
    (APPLICATION, "第一段是123", None),  # GOV has no digits
    (APPLICATION, "最后一段是二三五六", None),  # four digits for a group of three
    (APPLICATION, "对的", None),
])
def test_one_group_is_corrected_by_name(number, said, fixed):
    assert corrected_number(number, said) == fixed


def test_a_named_group_whose_digits_do_not_fit_is_known():
    assert group_named(APPLICATION, "最后一段是二三五六") == (4, 3)
    assert group_named(APPLICATION, "the last part is two three") == (4, 3)
    assert group_named(TICKET, "第二段") == (2, 4)
