"""A faithful local stand-in for WeChat's side of an official account.

`fake_api_app`: WeChat's HTTP API as the assistant calls it (access token, customer-service
messages), checking credentials and the token like the real one.
`WeChatServer`: what WeChat's servers send to the assistant — signed URL checks and signed,
optionally AES-encrypted XML messages built with wechatpy — and the checking of replies.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret-0123456789abcdef"
TOKEN = "fake-url-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues
ACCOUNT = "gh_riverside_gov"


@dataclass
class FakeWeChatApi:
    sent: list[dict] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)  # media id -> a voice recording

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        return app

    async def media_get(self, request: web.Request) -> web.Response:
        """Temporary media download: the file itself, or a JSON error like WeChat's."""
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        data = self.media.get(request.query.get("media_id", ""))
        if data is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="audio/amr", headers={
            "Content-Disposition": 'attachment; filename="voice.amr"'})

    async def token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def custom_send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        body = json.loads(await request.read())
        if body.get("msgtype") != "text" or not body.get("touser") or \
                not body.get("text", {}).get("content"):
            return web.json_response({"errcode": 44002, "errmsg": "empty post data"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def wait_for(self, openid: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.sent:
                if message["touser"] == openid:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no customer-service message to {openid}")


def text_xml(openid: str, content: str, msg_id: int | None = None) -> str:
    return message_xml(openid, "text", f"<Content><![CDATA[{content}]]></Content>", msg_id)


def voice_xml(openid: str, recognition: str, media_id: str = "media1") -> str:
    """A voice message; `recognition` "" is what accounts without WeChat's recognition get."""
    return message_xml(openid, "voice", f"<MediaId><![CDATA[{media_id}]]></MediaId>"
                       "<Format><![CDATA[amr]]></Format>"
                       f"<Recognition><![CDATA[{recognition}]]></Recognition>")


def event_xml(openid: str, event: str) -> str:
    return message_xml(openid, "event", f"<Event><![CDATA[{event}]]></Event>", msg_id=None)


def message_xml(openid: str, kind: str, inner: str, msg_id: int | None = 0) -> str:
    msg_id = secrets.randbelow(10**15) if msg_id == 0 else msg_id
    identity = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{kind}]]></MsgType>{inner}{identity}</xml>")


@dataclass
class Reply:
    status: int
    body: str
    content: str | None = None  # the text of a passive reply, decrypted and checked


class WeChatServer:
    """Sends what WeChat would send to `url` (the assistant's webhook)."""

    def __init__(self, url: str, safe_mode: bool) -> None:
        self.url = url
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID) if safe_mode else None

    @staticmethod
    def signature(*parts: str) -> str:
        signer = WeChatSigner()
        signer.add_data(*parts)
        return signer.signature

    def signed_query(self, timestamp: str | None = None, nonce: str | None = None,
                     token: str = TOKEN) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        return {"timestamp": timestamp, "nonce": nonce,
                "signature": self.signature(token, timestamp, nonce)}

    def verify_url(self, query: dict[str, str]) -> Reply:
        return self._request("GET", query, None)

    def send(self, xml: str | bytes, query: dict[str, str] | None = None,
             encrypt: bool = True) -> Reply:
        query = query or self.signed_query()
        body = xml.encode() if isinstance(xml, str) else xml
        if self.crypto is not None and encrypt:
            envelope = self.crypto.encrypt_message(body.decode(), query["nonce"],
                                                   query["timestamp"])
            fields = xmltodict.parse(envelope)["xml"]
            query = {**query, "encrypt_type": "aes", "msg_signature": fields["MsgSignature"]}
            body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>").encode()
        reply = self._request("POST", query, body)
        if reply.status == 200 and reply.body.startswith("<xml>"):
            reply.content = self._read_reply(reply.body, query)
        return reply

    def _read_reply(self, body: str, query: dict[str, str]) -> str:
        if self.crypto is not None:
            fields = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(body, fields["MsgSignature"],
                                               fields["TimeStamp"], fields["Nonce"])
        fields = xmltodict.parse(body)["xml"]
        assert fields["FromUserName"] == ACCOUNT and fields["MsgType"] == "text"
        return fields["Content"]

    def _request(self, method: str, query: dict[str, str], body: bytes | None) -> Reply:
        request = urllib.request.Request(
            f"{self.url}?{urllib.parse.urlencode(query)}", data=body, method=method,
            headers={"Content-Type": "text/xml"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())
