"""Office hours for handoff, and the keyed hashes of verification digits."""

from __future__ import annotations

import datetime as dt

import pytest

from storage.office_hours import OfficeHours
from storage.secrets import hash_secret, verify_secret

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def hours():
    return OfficeHours.parse("mon-fri 09:00-17:00; sat 09:00-12:00", "Asia/Shanghai")


@pytest.mark.parametrize(("moment", "open_"), [
    (dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), True),   # Monday morning
    (dt.datetime(2026, 11, 23, 17, 0, tzinfo=SHANGHAI), False),  # closing time
    (dt.datetime(2026, 11, 28, 11, 59, tzinfo=SHANGHAI), True),  # Saturday morning
    (dt.datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI), False),  # Sunday
    (dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc), True),  # 10:00 in Shanghai
])
def test_is_open(hours, moment, open_):
    assert hours.is_open(moment) is open_


def test_next_opening(hours):
    saturday_noon = dt.datetime(2026, 11, 28, 12, 30, tzinfo=SHANGHAI)
    assert hours.next_opening(saturday_noon).replace(tzinfo=None) == dt.datetime(2026, 11, 30, 9)
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    assert hours.next_opening(monday) == monday


def test_described_in_both_languages(hours):
    assert hours.describe("zh") == "周一至周五 9:00—17:00；周六 9:00—12:00"
    assert hours.describe("en") == "Monday to Friday 9:00-17:00; Saturday 9:00-12:00"


@pytest.mark.parametrize("spec", ["", "weekdays 9-5", "mon-fri 17:00-09:00", "xyz 09:00-10:00"])
def test_bad_office_hours_are_refused(spec):
    with pytest.raises(ValueError):
        OfficeHours.parse(spec, "Asia/Shanghai")


def test_secret_hashes_are_salted_keyed_and_checked():
    first, second = hash_secret("1234"), hash_secret("1234")
    assert first != second and "1234" not in first
    assert verify_secret("1234", first) and verify_secret("1234", second)
    assert verify_secret("123x", hash_secret("123X"))
    assert not verify_secret("1235", first)
    for broken in (None, "", "garbage", "scrypt1$$", "md5$abc$def"):
        assert not verify_secret("1234", broken)


def test_a_different_server_key_cannot_verify(tmp_path, monkeypatch):
    stored = hash_secret("1234")
    monkeypatch.setenv("GOV_SECRET_KEY", "another key")
    assert not verify_secret("1234", stored)
