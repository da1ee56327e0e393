"""Hostile clients on the citizen channels besides REST (that one: test_hostile_input.py) —
Socket.IO, voice, WeChat and Telegram — against the real stack: oversize messages, floods
(bounded counts, on loopback), foreign session ids and sender namespaces, missing or wrong
keys, odd methods. Each gets a clear refusal and changes nothing, and while an oversize message
arrives on any channel another citizen's REST turn is still answered (within a generous 10 s:
a behaviour check, not a benchmark; once, one ~900 KB Socket.IO message froze Rasa for 16
minutes)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
import socketio

from fakes import telegram
from fakes.wechat import WeChatServer, text_xml
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply
from helpers.socket_chat import Citizen
from helpers.voice import VoiceConversation, post_form

ANSWERED_WITHIN = 10.0  # seconds
LONG_ZH, LONG_EN = "路灯坏了" * 600, "help " * 600  # 2,400 and 3,000 characters


def user_texts(stack, sender: str) -> list[str]:
    """What the conversation recorded the citizen as saying (Rasa's API, with its token)."""
    url = (f"{stack.settings.rasa_url}/conversations/{sender}/tracker"
           f"?token={stack.api_token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"] or []
    return [event.get("text") for event in events if event.get("event") == "user"]


def during(stack, attack: Callable[[], Any]) -> Any:
    """Run `attack` while another citizen asks something over REST; that citizen must be
    answered, within ANSWERED_WITHIN seconds."""
    def other_citizen() -> tuple[float, list[str]]:
        started = time.monotonic()
        texts = RestConversation(stack.settings.rasa_url).texts("你好")
        return time.monotonic() - started, texts

    with ThreadPoolExecutor(1) as pool:
        citizen = pool.submit(other_citizen)
        result = attack()
        elapsed, texts = citizen.result(timeout=120)
    assert set(texts) & set(response_texts("utter_greet", "zh"))
    assert elapsed < ANSWERED_WITHIN, f"another citizen waited {elapsed:.1f} s"
    return result


# --- Socket.IO: sessions ---------------------------------------------------------------------

def test_a_second_socket_with_a_victims_session_id_gets_nothing_and_cannot_speak(stack):
    url = stack.settings.rasa_url

    async def scenario() -> dict:
        victim, bystander = Citizen(), Citizen()
        await victim.connect(url)
        await bystander.connect(url)
        assert_reply(await victim.say("我想查一下申请进度"), "utter_ask_reference_number", "zh")
        stolen = victim.session_id
        thieves = [Citizen(session={"session_id": stolen}),  # the id alone
                   Citizen(session={"session_id": stolen, "session_key": "A" * 43}),  # forged
                   Citizen(session={"session_id": stolen,  # another session's real key
                                    "session_key": bystander.session["session_key"]})]
        seen: dict = {"issued": [], "refusals": []}
        for thief in thieves:
            await thief.connect(url)
            seen["issued"].append(thief.session_id)  # a session of its own, not the victim's
            await thief.send("GOV-2024-001234", session_id=stolen)
            await thief.send("what is the status of my application", session_id=stolen)
            seen["refusals"].append([await thief.replies(15), thief.messages[-1]["error"]])
        # A socket that never asked for a session at all.
        raw, inbox = socketio.AsyncClient(reconnection=False), asyncio.Queue()
        raw.on("bot_uttered", inbox.put_nowait)
        await raw.connect(url, socketio_path="/socket.io", wait_timeout=30)
        await raw.emit("user_uttered", {"message": "GOV-2024-001234", "session_id": stolen})
        seen["raw"] = await asyncio.wait_for(inbox.get(), 15)
        # The victim's conversation goes on as if nothing happened, and only the victim hears.
        assert_reply(await victim.say("GOV-2024-001234"), "utter_ask_verification_code", "zh")
        await asyncio.sleep(1.5)
        seen["overheard"] = [thief.inbox.qsize() for thief in thieves] + [inbox.qsize()]
        for client in (victim, bystander, *thieves):
            await client.close()
        await raw.disconnect()
        return seen

    seen = asyncio.run(scenario())
    assert all(issued.startswith("socketio:") for issued in seen["issued"])
    assert len(set(seen["issued"])) == 3
    for texts, error in seen["refusals"]:
        assert error == "not_your_session"
        assert texts == ["这个会话不属于当前连接，请刷新页面后再试。",
                         "This conversation does not belong to this connection; please reload "
                         "the page and try again."]
    assert seen["raw"]["error"] == "not_your_session"
    assert seen["overheard"] == [0, 0, 0, 0]


def test_the_victims_conversation_holds_only_what_the_victim_said(stack):
    url = stack.settings.rasa_url

    async def scenario() -> str:
        victim, thief = Citizen(), Citizen()
        await victim.connect(url)
        await victim.say("你好")
        await thief.connect(url)
        await thief.send("我要投诉", session_id=victim.session_id)
        await thief.replies(15)
        await victim.close()
        await thief.close()
        return victim.session_id

    session = asyncio.run(scenario())
    assert user_texts(stack, session) == ["你好"]


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
def test_a_reloaded_page_presenting_its_key_goes_on_with_its_conversation(stack, transports):
    url = stack.settings.rasa_url

    async def scenario() -> tuple[str, str]:
        first = Citizen(transports)
        await first.connect(url)
        assert_reply(await first.say("我想查一下申请进度"), "utter_ask_reference_number", "zh")
        await first.close()
        again = Citizen(transports, session=first.session)  # what the page kept
        await again.connect(url)
        try:
            assert_reply(await again.say("GOV-2024-001234"), "utter_ask_verification_code", "zh")
        finally:
            await again.close()
        return first.session_id, again.session_id

    first, again = asyncio.run(scenario())
    assert again == first


# --- Socket.IO: limits ----------------------------------------------------------------------

def test_oversize_socketio_messages_are_refused_while_others_are_served(stack):
    url = stack.settings.rasa_url

    async def oversize() -> dict:
        citizen = Citizen(["websocket"])
        await citizen.connect(url)
        seen = {"zh": None, "en": None}
        for language, text in (("zh", LONG_ZH), ("en", LONG_EN)):
            await citizen.send(text)
            seen[language] = [await citizen.replies(15), citizen.messages[-1]["error"]]
        seen["session"] = citizen.session_id
        # ~900 KB in one frame (JSON-escaped): engine.io drops the connection, as frames are
        # capped at 64 KB
        await citizen.send("办" * 150_000)
        await asyncio.wait_for(citizen.disconnected.wait(), ANSWERED_WITHIN)
        await citizen.close()
        return seen

    seen = during(stack, lambda: asyncio.run(oversize()))
    assert seen["zh"] == [["消息太长了，请精简到 2000 字以内再发送。"], "too_large"]
    assert seen["en"] == [["That message is too long; please keep it under 2,000 characters."],
                          "too_large"]
    assert user_texts(stack, seen["session"]) == []  # nothing reached the bot


def test_a_socketio_flood_is_slowed_and_nobody_else_is(stack):
    """Burst 20, then 60 a minute per session and per socket (GOV_SENDER_*)."""
    url = stack.settings.rasa_url

    async def scenario() -> tuple[str, int, list[str]]:
        flooder, other = Citizen(["websocket"]), Citizen(["websocket"])
        await flooder.connect(url)
        for i in range(30):
            await flooder.send(f"你好 {i}")
        refused = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            refused = sum(1 for m in flooder.messages if m.get("error") == "too_many")
            accepted = await asyncio.to_thread(user_texts, stack, flooder.session_id)
            if refused and len(accepted) + refused == 30:
                break
            await asyncio.sleep(0.5)
        await other.connect(url)
        greeting = await other.say("你好")
        await flooder.close()
        await other.close()
        return flooder.session_id, refused, greeting

    session, refused, greeting = asyncio.run(scenario())
    assert 5 <= refused <= 30 - 20
    assert len(user_texts(stack, session)) == 30 - refused  # refused ones never reached Rasa
    assert_reply(greeting, "utter_greet", "zh")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_odd_methods_on_the_socketio_endpoint_are_refused(stack, method):
    request = urllib.request.Request(
        f"{stack.settings.rasa_url}/socket.io/?EIO=4&transport=polling", method=method)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code in (400, 405)


# --- voice ----------------------------------------------------------------------------------

def voice_url(stack, path: str) -> str:
    return f"{stack.settings.rasa_url}/webhooks/voice/{path}"


def test_voice_updates_only_for_the_holder_of_the_conversation_key(stack):
    owner = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "en")
    assert owner.send(text="/greet")[0] == 200
    stranger = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "zh")
    assert stranger.send(text="/greet")[0] == 200
    rest = RestConversation(stack.settings.rasa_url)
    rest.texts("你好")
    attempts = [
        {"sender": owner.sender},  # the id alone
        {"sender": owner.sender, "sender_key": "A" * 43},  # a forged key
        {"sender": owner.sender, "sender_key": stranger.sender_key},  # another page's key
        {"sender": rest.sender},  # another channel's conversation
        {"sender": rest.sender, "sender_key": owner.sender_key},
        {"sender": "telegram:42", "sender_key": owner.sender_key},
    ]
    for fields in attempts * 5:  # a bounded flood of guesses: all refused, none slowed down
        for language, words in (("zh", "不属于您"), ("en", "not yours")):
            status, reply = post_form(voice_url(stack, "updates"),
                                      {**fields, "after": "0", "language": language})
            assert status == 403 and reply["error"] == "forbidden" and words in reply["text"]
            assert not {"messages", "time", "waiting_for_person"} & set(reply)
            assert reply["audio"] is None  # refusals of forged requests cost no synthesis
    assert owner.updates(0)["messages"]  # the owner still gets its conversation's messages


def test_voice_turns_for_foreign_conversations_are_refused_and_change_nothing(stack):
    rest = RestConversation(stack.settings.rasa_url)
    rest.texts("你好")
    owner = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "zh")
    assert owner.send(text="/greet")[0] == 200
    for fields in ({"sender": rest.sender}, {"sender": rest.sender,
                                              "sender_key": owner.sender_key},
                   {"sender": owner.sender}, {"sender_key": owner.sender_key},
                   {"sender": "voice:" + "0" * 32, "sender_key": owner.sender_key}):
        status, reply = post_form(voice_url(stack, "webhook"),
                                  {**fields, "language": "en", "text": "/human_handoff"})
        assert status == 403 and reply["error"] == "forbidden" and "not yours" in reply["text"]
    assert user_texts(stack, rest.sender) == ["你好"]
    assert user_texts(stack, owner.sender) == ["/greet"]


@pytest.mark.parametrize(("path", "method"), [
    ("updates", "GET"), ("updates", "PUT"), ("updates", "DELETE"), ("webhook", "GET"),
    ("webhook", "PATCH")])
def test_odd_methods_on_the_voice_endpoints_are_refused_in_both_languages(stack, path, method):
    for language, words in (("zh", "不支持"), ("en", "not supported")):
        status, reply = post_form(voice_url(stack, path), {"language": language}, method=method)
        assert status == 405 and reply["error"] == "method" and words in reply["text"]


def test_oversize_voice_text_is_refused_while_others_are_served(stack):
    def oversize() -> list[tuple[int, dict]]:
        replies = []
        for language, text in (("zh", LONG_ZH), ("en", LONG_EN)):
            page = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url,
                                     language)
            replies.append(page.send(text=text))
        return replies

    (zh_status, zh), (en_status, en) = during(stack, oversize)
    assert zh_status == en_status == 413
    assert zh["error"] == en["error"] == "message_too_long"
    assert "2000 字" in zh["text"] and "2,000 characters" in en["text"]


# --- WeChat and Telegram --------------------------------------------------------------------

def test_oversize_wechat_text_is_refused_while_others_are_served(stack):
    server = WeChatServer(stack.wechat_url, safe_mode=True)
    users = {language: f"o{uuid.uuid4().hex[:27]}" for language in ("zh", "en")}
    replies = during(stack, lambda: {
        language: server.send(text_xml(users[language], text)).content
        for language, text in (("zh", LONG_ZH), ("en", LONG_EN))})
    assert replies == {"zh": "消息太长了，请精简到 2000 字以内再发送。",
                       "en": "That message is too long; please keep it under 2,000 characters."}
    for openid in users.values():
        assert user_texts(stack, f"wechat:{openid}") == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_odd_methods_on_the_wechat_webhook_are_refused(stack, method):
    server, openid = WeChatServer(stack.wechat_url, safe_mode=True), f"o{uuid.uuid4().hex[:27]}"
    reply = server._request(method, server.signed_query(),
                            text_xml(openid, "你好").encode())
    assert reply.status == 405
    assert user_texts(stack, f"wechat:{openid}") == []


def test_oversize_telegram_text_is_refused_while_others_are_served(stack):
    chat = 600000 + uuid.uuid4().int % 100000
    status = during(stack, lambda: telegram.post_update(stack.telegram_url,
                                                        telegram.text_update(chat, LONG_EN)))
    assert status == 200
    [refusal] = stack.telegram_api.messages_to(chat)
    assert refusal["text"] == "That message is too long; please keep it under 2,000 characters."
    assert user_texts(stack, f"telegram:{chat}") == []


@pytest.mark.parametrize("claims_counted", [False, True])
def test_a_telegram_flood_is_slowed_and_nobody_else_is(stack, claims_counted):
    """Also when the updates carry the mark the channel sets on a voice note it has already
    counted (channels.telegram.COUNTED): that mark is the channel's, never the sender's."""
    chat, other = (600000 + uuid.uuid4().int % 100000 for _ in range(2))

    def update(i: int) -> dict:
        sent = telegram.text_update(chat, f"你好 {i}")
        if claims_counted:
            sent["message"]["gov_rate_counted"] = True
        return sent

    # All at once, as Telegram may (up to 40 connections): each request waits for its turn, so
    # sent one after another they would be paced by the bot itself.
    with ThreadPoolExecutor(28) as pool:
        statuses = list(pool.map(
            lambda i: telegram.post_update(stack.telegram_url, update(i)), range(28)))
    assert statuses == [200] * 28
    sent = [m["text"] for m in stack.telegram_api.sent if str(m["chat_id"]) == str(chat)]
    refused = sent.count("您发送得太快了，请稍等片刻再发。")
    assert 5 <= refused <= 28 - 20
    assert len(user_texts(stack, f"telegram:{chat}")) == 28 - refused
    assert telegram.post_update(stack.telegram_url, telegram.text_update(other, "你好")) == 200
    [greeting] = stack.telegram_api.messages_to(other)
    assert greeting["text"] in response_texts("utter_greet", "zh")


def telegram_request(stack, path: str, method: str, body: bytes | None = None,
                     secret: str | None = telegram.SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"{stack.settings.rasa_url}/webhooks/telegram/{path}",
                                     data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(("path", "method", "body", "secret", "status"), [
    ("set_webhook", "GET", None, None, 404),  # would re-register without the secret
    ("set_webhook", "POST", b"{}", telegram.SECRET, 404),
    ("webhook", "GET", None, None, 405),
    ("webhook", "PUT", b"{}", telegram.SECRET, 405),
    ("webhook", "POST", b'["not", "an update"]', telegram.SECRET, 400),
    ("webhook", "POST", b"{not json", telegram.SECRET, 400),
    ("webhook", "POST", b'{"update_id": 1}', telegram.SECRET, 400),  # no message
    ("webhook", "POST", b'{"update_id": 1, "message": {"text": "hi"}}', telegram.SECRET, 400),
    ("webhook", "POST", b'{"update_id": 1, "x": "' + b"a" * 70_000 + b'"}', telegram.SECRET, 413),
    ("webhook", "POST", b'["no secret"]', None, 403),
])
def test_hostile_telegram_requests_are_refused_and_change_nothing(stack, path, method, body,
                                                                  secret, status):
    sent_before = len(stack.telegram_api.sent)
    assert telegram_request(stack, path, method, body, secret) == status
    assert stack.telegram_api.webhook["secret_token"] == telegram.SECRET
    assert len(stack.telegram_api.sent) == sent_before
