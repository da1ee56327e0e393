"""`kill -9` under load, through what operators run: `python -m stack run-production` and
`python -m stack run` as child processes (stack/launched.py), supervisor included, with
citizens talking all along (bench/citizens.py).

Production mode, with the built-in balancers and with HAProxy: a killed Rasa instance, action
server or speech service comes back by itself, the stack keeps running, no conversation is lost
and hardly a request fails (the balancers retry on the other instance and skip the dead one
until it is ready again). `make run` (one
instance of each): a killed action server comes back, and citizens who speak meanwhile get an
apology, never silence.

Each launcher costs ~1.5–4 GB and a few minutes to start: each is started once.
"""

from __future__ import annotations

import shutil
import time

import pytest

from bench.citizens import Citizens
from helpers.backends import ensure_postgres, ensure_redis
from stack.launched import Launched
from storage.provision import drop_database

TALK_BEFORE, TALK_AFTER = 8.0, 10.0  # seconds of conversation around each fault


@pytest.fixture(scope="module", params=["builtin", "haproxy"])
def production(request, tmp_path_factory):
    """`make run-production` with the built-in balancers, then with HAProxy in their place
    (GOV_BALANCER=haproxy, deploy/haproxy/haproxy.cfg)."""
    if not ensure_postgres():
        pytest.skip("PostgreSQL is not installed here")
    if not ensure_redis():
        pytest.skip("Redis is not installed here")
    if request.param == "haproxy" and not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (make test installs Debian's when root)")
    launched = Launched("run-production", tmp_path_factory.mktemp("state"),
                        {"GOV_BALANCER": request.param})
    try:
        launched.start()
        yield launched
    finally:
        launched.stop()
        ensure_postgres()
        drop_database(launched.database_url)


@pytest.fixture(scope="module")
def one_of_each(tmp_path_factory):
    launched = Launched("run", tmp_path_factory.mktemp("state"))
    try:
        launched.start()
        yield launched
    finally:
        launched.stop()


def kill_under_load(launched: Launched, name: str, citizens: int, back_within: float
                    ) -> tuple[Citizens, float | None]:
    """Citizens talk; `name` is killed; they talk on until it is back and a while after."""
    with Citizens(launched.settings.rasa_url, citizens, think=1.0,
                  seed=sum(map(ord, name))) as load:
        time.sleep(TALK_BEFORE)
        pid, killed_at = launched.kill(name)
        back = launched.back(name, pid, killed_at, back_within)
        time.sleep(TALK_AFTER)
    print(f"\n{launched.mode}: {name} killed, back after "
          f"{'never' if back is None else f'{back:.1f} s'}; {load.tally.summary()}")
    return load, back


@pytest.mark.parametrize("name", ["rasa server 1", "action server 2", "speech service"])
def test_production_heals_a_killed_service_and_no_conversation_is_lost(production, name):
    restarts = {s["name"]: s["restarts"] for s in production.status()["services"]}
    load, back = kill_under_load(production, name, citizens=6, back_within=120)
    tally = load.tally
    assert production.running(), production.tail()
    assert back is not None, production.tail()
    assert not tally.lost, tally.lost
    assert tally.silent == 0
    assert tally.completed >= 3, tally.summary()
    assert tally.failed_requests <= max(2, 0.02 * tally.requests), tally.summary()
    status = production.status()
    assert status["full_capacity"], status
    restarts[name] += 1  # that one only: nothing else went down with it
    assert {s["name"]: s["restarts"] for s in status["services"]} == restarts


def test_a_killed_balancer_comes_back_and_no_conversation_is_lost(production):
    """One balancer per machine is not redundant: while it restarts (about a second)
    connections are refused and citizens say it again; nobody's conversation is lost."""
    names = {s["name"] for s in production.status()["services"]}
    name = "rasa balancer" if "rasa balancer" in names else "haproxy"
    load, back = kill_under_load(production, name, citizens=6, back_within=60)
    tally = load.tally
    assert production.running(), production.tail()
    assert back is not None, production.tail()
    assert not tally.lost, tally.lost
    assert tally.silent == 0
    assert production.status()["full_capacity"]


def test_run_mode_brings_back_a_killed_action_server_and_apologises_meanwhile(one_of_each):
    load, back = kill_under_load(one_of_each, "action server", citizens=4, back_within=90)
    tally = load.tally
    assert one_of_each.running(), one_of_each.tail()
    assert back is not None and back <= 30, back  # the target for `make run`
    assert tally.silent == 0  # never silence
    assert set(tally.failed) <= {"apology"}, tally.failed  # Rasa itself answered throughout
    assert tally.completed >= 2, tally.summary()
    assert one_of_each.status()["full_capacity"]
