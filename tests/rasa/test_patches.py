"""bot/patches.py: every change to Rasa in one documented order, each applied once; one wrapper
around `Agent.handle_message` that measures a failed turn before apologising for it; and a
Rasa other than the tested one refuses to start, saying why in both languages."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import pytest

from bot import patches
from common.settings import PROJECT_ROOT, Settings, _free_port
from stack.training import model_path

INSTALL_TWICE = """
import importlib
from bot import patches

def current(patch):
    module, _, path = patch.target.partition(":")
    owner = importlib.import_module(module)
    *owners, name = path.split(".")
    for each in owners:
        owner = getattr(owner, each)
    return owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

patches.install()
first = [current(patch) for patch in patches.PATCHES]
patches.install()
again = [current(patch) for patch in patches.PATCHES]
assert all(a is b for a, b in zip(first, again)), "installed twice"
for patch, value in zip(patches.PATCHES, first):
    value = getattr(value, "__func__", value)  # a staticmethod
    assert getattr(value, "_gov_patch", None) == patch.target, patch.target
print(len(first))
"""


def test_every_patch_is_applied_once_in_a_fresh_process():
    result = subprocess.run([sys.executable, "-c", INSTALL_TWICE], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(patches.PATCHES)


def test_the_documented_table_lists_every_patch_in_order():
    doc = patches.__doc__ or ""
    positions = []
    for number, patch in enumerate(patches.PATCHES, 1):
        module, _, path = patch.target.partition(":")
        attribute = path.rsplit(".", 1)[-1] if "." in path else f"{module}.{path}"
        row = next((line for line in doc.splitlines()
                    if line.startswith(f"{number:>2}  {patch.group} ")), None)
        assert row is not None and attribute in row, (number, patch.target)
        positions.append(doc.index(row))
    assert positions == sorted(positions)


def test_an_untested_rasa_refuses_to_start_in_both_languages(tmp_path):
    """Another Rasa "installed" (a distribution found first on the path): the server exits
    with code 1 before Rasa starts, and says which version it was tested with."""
    info = tmp_path / "rasa-3.7.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rasa\nVersion: 3.7.0\n")
    result = subprocess.run(
        [sys.executable, "-m", "services.rasa_server", "run"], cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": f"{tmp_path}:{PROJECT_ROOT}", "HOME": str(tmp_path),
             "GOV_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "rasa 3.7.0" in result.stderr and "3.6.21" in result.stderr
    assert "拒绝启动" in result.stderr and "will not start" in result.stderr
    assert "requirements/rasa.lock" in result.stderr


@pytest.fixture(scope="module")
def agent():
    model = model_path(Settings())
    if not model.is_file():
        pytest.skip(f"{model.name} is not trained yet (make train)")
    from rasa.core.agent import Agent

    return Agent.load(str(model))


def test_a_failed_turn_is_measured_then_apologised_for(agent, caplog):
    """The lock store (Redis) is down: the turn counts as an error and its `turn` line says so,
    and then the citizen is asked, in their language, to try again."""
    from prometheus_client import REGISTRY
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.lock_store import RedisLockStore

    handle_message = patches.measured_then_apologised(Agent.handle_message)
    agent.lock_store = RedisLockStore(host="127.0.0.1", port=_free_port())  # nobody there
    channel = CollectingOutputChannel()
    message = UserMessage("How do I renew my passport?", channel, sender_id="citizen-1",
                          input_channel="rest")
    errors = {"channel": "rest"}
    before = REGISTRY.get_sample_value("gov_turn_errors_total", errors) or 0.0
    with caplog.at_level(logging.INFO):
        assert asyncio.run(handle_message(agent, message)) is None
    assert REGISTRY.get_sample_value("gov_turn_errors_total", errors) == before + 1
    assert [m["text"] for m in channel.messages] == [
        "Sorry, I can't handle this request right now. Please try again shortly, "
        "or call the 12345 government service hotline."]
    measured, apologised = [r for r in caplog.records
                            if r.name in ("bot.observability", "bot.resilience")]
    assert measured.name == "bot.observability" and measured.getMessage() == "turn"
    assert measured.outcome == "error"  # type: ignore[attr-defined]
    assert apologised.name == "bot.resilience" and "apology" in apologised.getMessage()


def test_replies_outside_the_dialogue_follow_the_citizens_script(agent):
    """The turn failed (the lock store is down) or had nothing to read: the apology and the
    request to type again are in Traditional characters for a citizen who writes them."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.lock_store import RedisLockStore
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    handle_message = patches.measured_then_apologised(Agent.handle_message)
    agent.lock_store = RedisLockStore(host="127.0.0.1", port=_free_port())  # nobody there
    channel = CollectingOutputChannel()
    asyncio.run(handle_message(agent, UserMessage("請問護照怎麼辦理", channel, "citizen-2")))
    assert [m["text"] for m in channel.messages] == [
        "抱歉，系統暫時無法處理這個請求，請稍後再試，或撥打 12345 政務服務熱線。"]

    tracker = DialogueStateTracker.from_events("citizen-3", [
        UserUttered("請問護照怎麼辦理"), SlotSet("language", "zh")], agent.domain.slots)
    asyncio.run(agent.tracker_store.save(tracker))
    channel = CollectingOutputChannel()
    asyncio.run(handle_message(agent, UserMessage("\u200b ", channel, "citizen-3")))
    assert [m["text"] for m in channel.messages] == [
        "您發來的消息是空的，請輸入您想諮詢或反映的內容。"]
