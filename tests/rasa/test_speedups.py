"""bot/speedups.py (put in place by bot/patches.py) changes how fast Rasa does things, never
what it decides."""

from __future__ import annotations

import asyncio
import copy

import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from bot import patches

patches.install("speed")

SLOT = {"event": "slot", "name": "language", "value": "zh", "timestamp": None}
LOOP = {"event": "active_loop", "name": "status_check_form", "timestamp": None}
RESULTS = [
    {"events": [SLOT, LOOP], "responses": [{"response": "utter_greet"}]},
    {"events": [SLOT]},
    {"responses": []},
    {},
    None,
    [],
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "no such event"}]},
    {"events": [SLOT], "responses": "utter_greet"},
    {"events": [SLOT], "responses": ["utter_greet"]},
    {"events": [SLOT, {"event": "slot", "name": 3}]},
]


def rasa_verdict(result: object) -> str | None:
    """What Rasa's own check (jsonschema.validate on the same schema) says."""
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("result", RESULTS)
def test_action_results_are_judged_as_rasa_judges_them(result):
    action = RemoteAction("action_anything", None)
    expected = rasa_verdict(result)
    for _ in range(2):  # the second time valid events come from the cache
        if expected is None:
            assert action._validate_action_result(copy.deepcopy(result)) is True
        else:
            with pytest.raises(jsonschema.ValidationError) as raised:
                action._validate_action_result(copy.deepcopy(result))
            assert raised.value.message.startswith(expected)
            assert "Failed to validate Action server response" in raised.value.message


def test_a_known_valid_event_does_not_excuse_an_invalid_neighbour():
    action = RemoteAction("action_anything", None)
    assert action._validate_action_result({"events": [SLOT]})
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result({"events": [SLOT, {"event": "slot"}]})
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result({"events": [SLOT], "responses": [3]})


def test_events_are_read_back_as_the_same_classes():
    for event in (SlotSet("language", "en"), ActiveLoop("ticket_form"), BotUttered("hi"),
                  UserUttered("你好", {"name": "greet", "confidence": 1.0})):
        assert type(Event.from_parameters(event.as_dict())) is type(event)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no such event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no such event")


def test_action_server_calls_reuse_one_connection():
    peers: list[object] = []

    async def scenario() -> list:
        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername"))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        replies = [await endpoint.request(json={"n": n}, method="post") for n in range(4)]
        await runner.cleanup()
        try:  # the server is gone: the caller sees a connection error, as before
            await endpoint.request(json={}, method="post")
            replies.append("answered")
        except Exception as error:
            replies.append(type(error).__name__)
        return replies

    replies = asyncio.run(scenario())
    assert replies[:4] == [{"events": [], "responses": []}] * 4
    assert replies[4] != "answered"
    assert len(set(peers)) == 1
