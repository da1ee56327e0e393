"""Message understanding runs off Rasa's event loop, on bounded text (bot/off_loop.py), with
the trained model."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot import patches
from bot.limits import MAX_MESSAGE_CHARS
from common.settings import Settings
from stack.training import model_path


@pytest.fixture(scope="module")
def agent():
    model = model_path(Settings())
    if not model.is_file():
        pytest.skip(f"{model.name} is not trained yet (make train)")
    from rasa.core.agent import Agent

    patches.install("off-loop")
    return Agent.load(str(model))


def test_the_nlu_graph_runs_in_a_worker_thread_on_bounded_text(agent):
    runner = agent.processor.graph_runner
    seen: list[tuple[threading.Thread, str]] = []
    run = runner.run

    def watched(inputs, targets):  # what the graph was given, and on which thread
        [message] = inputs.get("__message__", [None]) or [None]
        seen.append((threading.current_thread(), getattr(message, "text", "")))
        return run(inputs=inputs, targets=targets)

    runner.run = watched
    try:
        async def parse() -> tuple[threading.Thread, dict, int]:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            ticker = asyncio.create_task(tick())
            await asyncio.sleep(0)
            parsed = await agent.parse_message("营业执照怎么办理" * 400 + "x" * 500_000)
            ticker.cancel()
            return threading.current_thread(), parsed, ticks
        loop_thread, parsed, ticks = asyncio.run(parse())
    finally:
        runner.run = run
    assert seen and all(thread is not loop_thread for thread, _ in seen)
    assert all(len(text) == MAX_MESSAGE_CHARS for _, text in seen)
    assert parsed["intent"]["name"] and len(parsed["text"]) == MAX_MESSAGE_CHARS
    assert ticks > 1  # the loop went on running other work meanwhile
