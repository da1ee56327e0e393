"""A local stand-in for Telegram's Bot API (https://api.telegram.org/bot<token>/<method>).

It answers the methods Rasa's connector calls (setWebhook, getMe, sendMessage,
answerCallbackQuery) and the file download a voice note needs (getFile, then
/file/bot<token>/<file_path>), refuses other tokens as Telegram does, records what the bot
sends, and builds the updates Telegram would POST to the webhook.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from aiohttp import web

TOKEN = "123456:FAKE-telegram-token"
BOT_NAME = "riverside_gov_bot"
SECRET = "fake-webhook-secret"
_ids = itertools.count(1000)


@dataclass
class FakeTelegramApi:
    sent: list[dict] = field(default_factory=list)
    webhook: dict = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.call)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        return app

    async def download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        file_id = request.match_info["path"].removeprefix("voice/").removesuffix(".oga")
        if file_id not in self.files:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found"}, status=404)
        return web.Response(body=self.files[file_id], content_type="audio/ogg")

    async def call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        params = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update({k: v for k, v in (await request.post()).items()
                               if isinstance(v, str)})
        method = request.match_info["method"].lower()
        if method == "getme":
            return ok({"id": 42, "is_bot": True, "first_name": "Riverside", "username": BOT_NAME})
        if method == "setwebhook":
            self.webhook = params
            return ok(True)
        if method == "sendmessage":
            if not params.get("chat_id") or not params.get("text"):
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message text is empty"},
                                         status=400)
            markup = params.get("reply_markup")
            params["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            self.sent.append(params)
            return ok({"message_id": next(_ids), "date": int(time.time()),
                       "chat": {"id": int(params["chat_id"]), "type": "private"},
                       "text": params["text"]})
        if method == "answercallbackquery":
            return ok(True)
        if method == "getfile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: invalid file_id"},
                                         status=400)
            return ok({"file_id": file_id, "file_unique_id": file_id[-8:],
                       "file_size": len(self.files[file_id]),
                       "file_path": f"voice/{file_id}.oga"})
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                 status=404)

    def messages_to(self, chat_id: int, after: int = 0, timeout: float = 30,
                    count: int = 1) -> list[dict]:
        """Messages sent to `chat_id` after the first `after` ones, once `count` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [m for m in self.sent if str(m["chat_id"]) == str(chat_id)][after:]
            if len(mine) >= count:
                return mine
            time.sleep(0.1)
        raise AssertionError(f"expected {count} message(s) to {chat_id}, got {self.sent}")


def ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def text_update(chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Citizen", "language_code": "zh"}
    return {"update_id": next(_ids), "message": {
        "message_id": next(_ids), "date": int(time.time()), "text": text, "from": user,
        "chat": {"id": chat_id, "type": "private", "first_name": "Citizen"}}}


def media_update(chat_id: int, kind: str, caption: str | None = None,
                 language_code: str = "zh", file_id: str | None = None) -> dict:
    """A message with a photo, sticker, voice note … instead of text, as Telegram sends it."""
    update = text_update(chat_id, "")
    message = update["message"]
    del message["text"]
    message["from"]["language_code"] = language_code
    message[kind] = {"file_id": file_id or f"file-{next(_ids)}",
                     "file_unique_id": str(next(_ids))}
    if kind == "voice":
        message[kind].update(duration=3, mime_type="audio/ogg")
    if caption is not None:
        message["caption"] = caption
    return update


def button_update(chat_id: int, data: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Citizen"}
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "from": user, "chat_instance": "1", "data": data,
        "message": {"message_id": next(_ids), "date": int(time.time()), "text": "…",
                    "chat": {"id": chat_id, "type": "private"}}}}


def post_update(webhook_url: str, update: dict, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(webhook_url, data=json.dumps(update).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
