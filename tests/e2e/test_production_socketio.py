"""Socket.IO in production mode: two Rasa instances behind the balancer, PostgreSQL, and Redis
carrying the Socket.IO emits between the instances (channels/socketio.py, services/balancer.py).

A citizen's socket goes through the balancer like everything else; a staff reply handled by
either instance reaches the citizen's socket, wherever it is; the long-polling transport works
through the balancer; and when the instance holding a citizen's WebSocket is killed, the
client reconnects through the balancer and the same conversation goes on."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass

import aiohttp
import pytest

from common.settings import Settings
from helpers.backends import down
from helpers.chat import assert_reply
from helpers.production import apology, production_stack
from helpers.socket_chat import Citizen
from stack.production import ProductionSettings
from stack.services import Service


@dataclass
class Production:
    settings: Settings
    production: ProductionSettings
    services: dict[str, Service]
    api_token: str

    def instance_urls(self) -> list[str]:
        return [f"http://{self.settings.host}:{self.production.rasa_base_port + i}"
                for i in range(self.production.rasa_instances)]


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    token = secrets.token_urlsafe(16)
    with production_stack(tmp_path_factory, "sio", api_token=token) as (settings, prod,
                                                                          services):
        yield Production(settings, prod, services, token)


async def staff_reply_via(rasa_url: str, token: str, conversation_id: str, text: str) -> None:
    """What staff/api.py send_staff_reply does, addressed to one Rasa instance."""
    base, params = f"{rasa_url}/conversations/{conversation_id}", {"token": token}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/tracker/events", params=params, json={
                "event": "slot", "name": "staff_reply", "value": text}) as reply:
            assert reply.status == 200, await reply.text()
        async with http.post(f"{base}/execute", json={"name": "action_staff_reply"},
                             params={**params, "output_channel": "latest"}) as reply:
            assert reply.status == 200, await reply.text()


def test_the_web_chat_page_connects_through_the_balancer(production):
    with urllib.request.urlopen(f"{production.settings.web_url}/config.js", timeout=10) as page:
        config = page.read().decode()
    assert json.loads(config.split("=", 1)[1].rstrip(";\n "))["socketUrl"] \
        == production.settings.rasa_url


def test_a_citizen_talks_to_the_bot_through_the_balancer(production):
    async def scenario() -> None:
        for transports in (["websocket"], None):  # WebSocket; polling upgraded to WebSocket
            citizen = Citizen(transports)
            await citizen.connect(production.settings.rasa_url)
            try:
                assert_reply(await citizen.say("你好"), "utter_greet", "zh")
                assert_reply(await citizen.say("I want to check my application"),
                             "utter_ask_reference_number", "en")
                assert_reply(await citizen.say("GOV-2024-001234"),
                             "utter_ask_verification_code", "en")
            finally:
                await citizen.close()

    asyncio.run(scenario())


def test_long_polling_works_through_the_balancer(production):
    async def scenario() -> None:
        citizen = Citizen(["polling"])
        await citizen.connect(production.settings.rasa_url)
        try:
            assert citizen.client.transport() == "polling"
            assert_reply(await citizen.say("我想查一下申请进度"), "utter_ask_reference_number",
                         "zh")
            # every poll and post of this session reached the instance holding it
            assert_reply(await citizen.say("GOV-2024-001234"), "utter_ask_verification_code",
                         "zh")
            assert_reply(await citizen.say("0000"), "utter_verification_failed", "zh",
                         attempts_left="2")
        finally:
            await citizen.close()

    asyncio.run(scenario())


def test_a_staff_reply_handled_by_either_instance_reaches_the_citizens_socket(production):
    """The citizen's socket is on one instance; the reply is sent through each instance's API
    in turn, so one of them is certainly not the one holding the socket."""
    async def scenario() -> list[str]:
        received = []
        for transports in (["websocket"], ["polling"]):
            citizen = Citizen(transports)
            await citizen.connect(production.settings.rasa_url)
            try:
                assert_reply(await citizen.say("你好"), "utter_greet", "zh")
                for i, url in enumerate(production.instance_urls()):
                    text = f"您好，我是工作人员小李（{transports[0]}，经实例 {i + 1}）。"
                    await staff_reply_via(url, production.api_token, citizen.session_id, text)
                    received += await citizen.replies(30)
            finally:
                await citizen.close()
        return received

    assert asyncio.run(scenario()) == [
        f"您好，我是工作人员小李（{transport}，经实例 {i}）。"
        for transport in ("websocket", "polling") for i in (1, 2)]


def _listeners(channel: str) -> int:
    """How many processes are subscribed to a Redis pub/sub channel."""
    reply = subprocess.run(["redis-cli", "pubsub", "numsub", channel], capture_output=True,
                           text=True, check=False).stdout.split()
    return int(reply[1]) if len(reply) == 2 else 0


def test_while_redis_is_down_socket_citizens_get_an_apology_then_carry_on(production):
    """Without Redis, an instance delivers what it emits to its own sockets: the citizen hears
    the apology on the socket the message came in on. Once Redis is back both instances
    listen again and the conversation, and staff replies through either instance, go on."""
    channel = production.production.socketio_queue()["redis_channel"]
    assert _listeners(channel) == 2  # both instances listen from their start

    async def scenario() -> list[str]:
        citizen = Citizen(["websocket"])
        await citizen.connect(production.settings.rasa_url)
        try:
            assert_reply(await citizen.say("我想查一下申请进度"), "utter_ask_reference_number",
                         "zh")
            with down("redis"):
                for message in ("申请号我找一下", "还在吗？"):
                    assert await citizen.say(message) == [apology("zh")]
            deadline = time.monotonic() + 90  # they re-subscribe, backing off up to 60 s
            while _listeners(channel) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            assert _listeners(channel) == 2
            assert_reply(await citizen.say("GOV-2024-001234"), "utter_ask_verification_code",
                         "zh")
            received = []
            for i, url in enumerate(production.instance_urls()):
                await staff_reply_via(url, production.api_token, citizen.session_id,
                                      f"Redis 恢复后的回复 {i + 1}")
                received += await citizen.replies(30)
            return received
        finally:
            await citizen.close()

    assert asyncio.run(scenario()) == ["Redis 恢复后的回复 1", "Redis 恢复后的回复 2"]


def _websocket_upstream(production: Production, lines_before: int) -> str:
    """The instance the balancer opened the newest WebSocket to (from its JSON log)."""
    log = production.services["rasa balancer"].log_path.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in log.splitlines()[lines_before:]]
    [opened] = [e for e in entries if e["message"] == "websocket opened"]
    return opened["upstream"]


def test_killing_the_instance_holding_a_websocket_the_conversation_goes_on(production):
    """Last in this module: it kills a Rasa instance."""
    async def scenario() -> None:
        log = production.services["rasa balancer"].log_path
        lines_before = len(log.read_text(encoding="utf-8").splitlines())
        citizen = Citizen(["websocket"], reconnection=True)
        await citizen.connect(production.settings.rasa_url)
        try:
            assert_reply(await citizen.say("我想查一下申请进度"), "utter_ask_reference_number",
                         "zh")
            upstream = _websocket_upstream(production, lines_before)
            index = production.instance_urls().index(upstream)
            holder = production.services[f"rasa server {index + 1}"]
            os.killpg(os.getpgid(holder.process.pid), signal.SIGKILL)  # no goodbye
            await asyncio.to_thread(holder.process.wait, 30)
            await asyncio.wait_for(citizen.disconnected.wait(), 30)
            # reconnected through the balancer, to the other instance; same session id
            for _ in range(300):
                if citizen.connects >= 2 and citizen.confirmed.is_set():
                    break
                await asyncio.sleep(0.1)
            assert citizen.connects >= 2 and citizen.confirmed.is_set()
            # the form's state is in PostgreSQL: the next question comes, in Chinese
            assert_reply(await citizen.say("GOV-2024-001234"), "utter_ask_verification_code",
                         "zh")
            survivor = production.instance_urls()[1 - index]
            lines = log.read_text(encoding="utf-8").splitlines()[lines_before:]
            reopened = [json.loads(line) for line in lines]
            assert [e["upstream"] for e in reopened if e["message"] == "websocket opened"] \
                == [upstream, survivor]
        finally:
            await citizen.close()

    asyncio.run(scenario())
