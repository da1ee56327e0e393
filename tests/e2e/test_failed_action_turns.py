"""An action server that fails while answering a turn: the citizen gets the apology and the
turn is undone (bot/resilience.py), so saying it again carries the conversation on where it
was. A second Rasa server of the test stack talks to the real action server through a proxy
that drops the status report once, as an action server killed under it would."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import ClientSession, web

from common.settings import PROJECT_ROOT, _free_port
from fakes.server import BackgroundServer
from helpers.chat import RestConversation, assert_reply
from stack.credentials import write_credentials
from stack.services import Service, wait_until_ready
from stack.training import model_path
from storage.seed import demo_applicants


class DroppingProxy:
    """Forwards action calls to the action server, except that the next `drops[action]` calls
    of `action` are cut off unanswered."""

    def __init__(self, target: str) -> None:
        self.target, self.drops, self.seen = target, {}, []

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        action = json.loads(body).get("next_action")
        self.seen.append(action)
        if self.drops.get(action, 0) > 0:
            self.drops[action] -= 1
            request.transport.abort()
            raise asyncio.CancelledError
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length")}
        async with ClientSession() as client, client.post(self.target + request.path_qs, data=body,
                                                          headers=headers) as reply:
            return web.Response(body=await reply.read(), status=reply.status,
                                content_type="application/json")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 << 20)
        app.router.add_post("/webhook", self.forward)
        return app


@pytest.fixture(scope="module")
def rasa_through_proxy(stack, tmp_path_factory):
    """(Rasa URL, proxy) — Rasa with its own conversation store, the stack's action server."""
    settings = stack.settings
    proxy = DroppingProxy(settings.action_url)
    port = _free_port()
    with BackgroundServer(proxy.app()) as server:
        env = {**settings.process_env(), "ACTION_ENDPOINT_URL": f"{server.url}/webhook",
               "GOV_TRACKER_DB": str(tmp_path_factory.mktemp("second") / "tracker.db")}
        rasa = Service(
            name="second rasa server",
            argv=[str(settings.rasa_venv / "bin" / "python"), "-m", "services.rasa_server",
                  "run", "--model", str(model_path(settings)),
                  "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
                  "--credentials", str(write_credentials(settings)),
                  "--interface", settings.host, "--port", str(port)],
            health_url=f"http://{settings.host}:{port}/",
            log_path=settings.logs_dir / "rasa-second.log")
        rasa.start(env)
        try:
            wait_until_ready([rasa], settings.ready_timeout)
            yield f"http://{settings.host}:{port}", proxy
        finally:
            rasa.stop()


def test_status_report_failing_once_gets_an_apology_and_the_digits_again_get_the_status(
        rasa_through_proxy):
    url, proxy = rasa_through_proxy
    person = demo_applicants(5)[4]
    chat = RestConversation(url)
    assert_reply(chat.texts("我想查一下申请进度"), "utter_ask_reference_number", "zh")
    assert_reply(chat.texts(person.number), "utter_ask_verification_code", "zh")
    proxy.drops["action_report_status"] = 1
    assert_reply(chat.texts(person.phone[-4:]), "utter_service_unavailable", "zh")
    assert proxy.drops["action_report_status"] == 0  # the failure happened where intended
    [reply] = chat.texts(person.phone[-4:])  # "please try again": the same digits
    assert reply.startswith(f"申请 {person.number}")


def test_a_failed_answer_in_english_is_apologised_for_and_asked_again_answered(
        rasa_through_proxy):
    url, proxy = rasa_through_proxy
    chat = RestConversation(url)
    question = "How do I register a marriage?"
    proxy.seen.clear()
    chat.texts(question)
    answering = next(a for a in proxy.seen if not a.startswith(("validate_", "action_validate")))
    proxy.drops[answering] = 1
    chat = RestConversation(url)
    assert_reply(chat.texts(question), "utter_service_unavailable", "en")
    second = chat.texts(question)
    assert second and not any("Sorry, I can't handle" in text for text in second)
