"""The WeChat channel over real HTTP in plaintext mode, with a stand-in bot so timing can be
controlled: passive replies, the customer-service fallback for slow answers (against the fake
WeChat API), retries, replays, voice, events and hostile input."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid

import pytest
from sanic import Sanic

from channels.wechat import NOT_HEARD, UNSUPPORTED, WeChatInput
from fakes import wechat
from fakes.server import BackgroundServer
from fakes.wechat import FakeWeChatApi, WeChatServer, event_xml, text_xml, voice_xml

SLOW_WORD = "slowly"


class StandInBot:
    """Echoes what it receives; takes a second for messages containing SLOW_WORD."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    async def __call__(self, message) -> None:
        self.received.append((message.sender_id, message.text))
        if SLOW_WORD in message.text:
            await asyncio.sleep(1.0)
        await message.output_channel.send_text_with_buttons(
            message.sender_id, f"echo: {message.text}",
            [{"title": "转人工", "payload": "/human_handoff"}])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def api():
    fake = FakeWeChatApi()
    with BackgroundServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="module")
def channel(api):
    """The channel's blueprint in a real Sanic server on a free port."""
    bot = StandInBot()
    channel = WeChatInput(wechat.TOKEN, wechat.APP_ID, wechat.APP_SECRET, None,
                          f"{api.url}/cgi-bin/", reply_seconds=0.3)
    app = Sanic(f"wechat_test_{uuid.uuid4().hex[:6]}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
    port, ready = _free_port(), threading.Event()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def start() -> None:
            server = await app.create_server(host="127.0.0.1", port=port,
                                             return_asyncio_server=True)
            await server.startup()
            ready.set()
            await server.serve_forever()

        loop.run_until_complete(start())

    threading.Thread(target=serve, daemon=True).start()
    assert ready.wait(15)
    return WeChatServer(f"http://127.0.0.1:{port}/webhooks/wechat/webhook", safe_mode=False), bot


def user() -> str:
    return f"o{uuid.uuid4().hex[:27]}"


def test_url_verification(channel):
    server, _ = channel
    query = {**server.signed_query(), "echostr": "1234567"}
    assert server.verify_url(query).body == "1234567"
    assert server.verify_url({**query, "nonce": "changed"}).status == 403
    old = {**server.signed_query(timestamp="1600000000"), "echostr": "1"}
    assert server.verify_url(old).status == 403


def test_text_gets_a_passive_reply_with_buttons_as_suggestions(channel):
    server, bot = channel
    openid = user()
    reply = server.send(text_xml(openid, "营业执照怎么办"))
    assert reply.content == "echo: 营业执照怎么办\n您可以回复：\n· 转人工"
    assert bot.received[-1] == (f"wechat:{openid}", "营业执照怎么办")


def test_voice_uses_wechats_recognition_text(channel):
    server, bot = channel
    openid = user()
    assert server.send(voice_xml(openid, "查询申请进度")).content.startswith("echo: 查询申请进度")
    before = len(bot.received)
    assert server.send(voice_xml(openid, "")).content == NOT_HEARD
    assert len(bot.received) == before


def test_typed_text_reaches_the_bot_even_when_it_reads_like_a_fixed_reply(channel):
    """Control flow follows the message's kind, never the wording of a reply."""
    server, bot = channel
    openid = user()
    for text in (NOT_HEARD, UNSUPPORTED):
        assert server.send(text_xml(openid, text)).content.startswith("echo: ")
        assert bot.received[-1] == (f"wechat:{openid}", text)


def test_subscribe_is_welcomed_and_unsupported_types_explained(channel):
    server, bot = channel
    openid = user()
    assert server.send(event_xml(openid, "subscribe")).content.startswith("echo: /greet")
    assert server.send(event_xml(openid, "unsubscribe")).body == "success"
    image = wechat.message_xml(openid, "image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl>")
    assert server.send(image).content == UNSUPPORTED
    assert not [said for sender, said in bot.received if sender == f"wechat:{openid}"
                and "y.jpg" in said]


def test_slow_answers_go_through_the_customer_service_api(channel, api):
    server, _ = channel
    openid = user()
    reply = server.send(text_xml(openid, f"please answer {SLOW_WORD}"))
    assert reply.status == 200 and reply.body == "success"  # within WeChat's 5 seconds
    message = api.wait_for(openid, timeout=10)
    assert message["msgtype"] == "text"
    assert message["text"]["content"].startswith(f"echo: please answer {SLOW_WORD}")


def test_retries_and_replays_do_not_reach_the_bot_twice(channel):
    server, bot = channel
    openid = user()
    xml = text_xml(openid, "同一条消息", msg_id=987654321012345)
    assert server.send(xml).content  # first delivery answered
    assert server.send(xml).body == "success"  # WeChat's retry (same MsgId, new nonce)
    query = server.signed_query()
    assert server.send(text_xml(openid, "重放"), query=query).status == 200
    assert server.send(text_xml(openid, "重放"), query=query).status == 403  # same nonce
    said = [text for sender, text in bot.received if sender == f"wechat:{openid}"]
    assert said == ["同一条消息", "重放"]


@pytest.mark.parametrize(("body", "status"), [
    ('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>a'
     '</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType>'
     '<Content>&xxe;</Content></xml>', 400),
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
     '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><xml>&lol2;</xml>', 400),
    ("<xml><ToUserName>a</ToUserName><FromUser", 400),
    ("not xml at all", 400),
    ("<xml><MsgType>text</MsgType><Content>no sender</Content></xml>", 400),
    ("x" * (65 * 1024), 413),
])
def test_hostile_or_broken_bodies_are_refused(channel, body, status):
    server, bot = channel
    before = len(bot.received)
    assert server.send(body).status == status
    assert len(bot.received) == before


def test_wrong_signature_is_refused(channel):
    server, bot = channel
    before = len(bot.received)
    forged = server.signed_query(token="not-our-token")
    assert server.send(text_xml(user(), "你好"), query=forged).status == 403
    assert len(bot.received) == before


@pytest.mark.parametrize(("text", "expected"), [
    ("路灯坏了" * 600, "2000 字"), ("help " * 500, "2,000 characters")])
def test_an_overlong_message_is_refused_in_its_language_before_the_bot(channel, text,
                                                                        expected):
    server, bot = channel
    openid = user()
    reply = server.send(text_xml(openid, text))
    assert reply.status == 200 and expected in reply.content
    assert not [said for sender, said in bot.received if sender == f"wechat:{openid}"]


def test_a_flood_from_one_user_is_slowed_and_nobody_else_is(channel):
    """Every text channel's per-sender limit (burst 20, then 60 a minute by default)."""
    server, bot = channel
    flooder, other = user(), user()
    replies = [server.send(text_xml(flooder, f"第{i}条")).content for i in range(30)]
    refused = [r for r in replies if r.startswith("您发送得太快了")]
    assert len(refused) >= 5 and replies[0].startswith("echo:")
    assert len([s for s, _ in bot.received if s == f"wechat:{flooder}"]) == 30 - len(refused)
    assert server.send(text_xml(other, "你好")).content.startswith("echo: 你好")
