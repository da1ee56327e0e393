"""Hostile clients against the running stack's action server and REST endpoint, and what the
launcher leaves for other users of the machine to see (docs/security.md): each attempt
gets a clear refusal and changes nothing. Loopback only, bounded request counts."""

from __future__ import annotations

import http.client
import json
import os
import stat
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from fakes import telegram, wechat
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply
from storage.models import Ticket
from storage.seed import demo_applicants

RASA_VERSION = "3.6.21"


def request(url: str, body: bytes | None = None, method: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], object]:
    """(status, headers, JSON body or raw text) of one HTTP request, refusals included."""
    call = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=60) as reply:
            status, answer, raw = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, dict(error.headers), error.read()
    try:
        return status, answer, json.loads(raw or b"null")
    except ValueError:
        return status, answer, raw.decode("utf-8", "replace")


def action_call(action: str, sender: str, message_id: str | None = None,
                **slots: object) -> bytes:
    """What Rasa posts to the action server to run `action` (the shape the issue's probe used)."""
    tracker = {"sender_id": sender, "slots": {"language": "en", **slots},
               "latest_message": {"text": "", "intent": {}, "message_id": message_id},
               "events": [], "paused": False,
               "followup_action": None, "active_loop": {}, "latest_action_name": None}
    return json.dumps({"next_action": action, "sender_id": sender, "tracker": tracker,
                       "domain": {"slots": {}}, "version": RASA_VERSION}).encode()


def webhook(stack, token: str | None) -> str:
    query = f"?{urllib.parse.urlencode({'token': token})}" if token is not None else ""
    return f"{stack.settings.action_url}/webhook{query}"


def ticket_count(stack) -> int:
    engine = create_engine(f"sqlite:///{stack.settings.state_dir / 'gov.db'}")
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Ticket)).scalar_one()
    finally:
        engine.dispose()


TICKET_SLOTS = {"request_text": "the street light outside number 5 has been broken for weeks",
                "request_department": "urban_management", "contact_digits": "4321",
                "routing_confidence": 0.9}


# --- the action server -----------------------------------------------------------------------

def test_action_server_listens_on_loopback_only(stack):
    port = f"{stack.settings.action_port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(f":{port}"):  # LISTEN
                listening.append(local.split(":")[0])
    assert listening == ["0100007F"]  # 127.0.0.1, nothing else


@pytest.mark.parametrize(("token", "status", "error"), [
    (None, 401, "missing_token"), ("", 401, "missing_token"), ("wrong", 403, "wrong_token")])
@pytest.mark.parametrize("action", ["action_create_ticket", "action_report_status"])
def test_direct_action_calls_without_the_token_are_refused(stack, token, status, error, action):
    person = demo_applicants(5)[0]
    before = ticket_count(stack)
    body = action_call(action, f"probe-{uuid.uuid4().hex[:8]}", lookup_outcome="verified",
                       verified_reference=person.number, **TICKET_SLOTS)
    code, _, reply = request(webhook(stack, token), body,
                             headers={"Content-Type": "application/json"})
    assert code == status and reply["error"] == error
    assert "action token" in reply["message"] and "令牌" in reply["message"]
    assert person.number not in json.dumps(reply, ensure_ascii=False)
    assert ticket_count(stack) == before


def test_forged_verified_slots_with_the_right_token_show_no_case_data(stack):
    """Even Rasa's own call (the right token) gets no status from slots that merely say
    "verified": only the proof the digit check issued to that conversation counts."""
    person = demo_applicants(5)[0]
    code, _, reply = request(
        webhook(stack, stack.settings.action_token()),
        action_call("action_report_status", f"probe-{uuid.uuid4().hex[:8]}",
                    lookup_outcome="verified", verified_reference=person.number),
        headers={"Content-Type": "application/json"})
    assert code == 200
    assert [message["response"] for message in reply["responses"]] == [
        "utter_lookup_not_verified"]
    shown = json.dumps(reply, ensure_ascii=False)
    assert person.number not in shown and person.service["name"]["en"] not in shown


def test_tickets_from_one_conversation_are_rate_limited_in_the_action(stack):
    sender, before = f"probe-{uuid.uuid4().hex[:8]}", ticket_count(stack)
    responses = []
    for _ in range(6):
        code, _, reply = request(webhook(stack, stack.settings.action_token()),
                                 action_call("action_create_ticket", sender, **TICKET_SLOTS),
                                 headers={"Content-Type": "application/json"})
        assert code == 200
        responses += [message["response"] for message in reply["responses"]]
    assert responses == ["utter_ticket_created"] * 3 + ["utter_ticket_rate_limited"] * 3
    assert ticket_count(stack) == before + 3


def test_a_retried_ticket_call_finds_the_ticket_its_first_attempt_filed(stack):
    """A balancer re-sends an action call whose instance died before answering; if that
    instance had already written the ticket, the retry (same turn, same message id) must
    report that ticket, not file a second one. The citizen's next request files anew."""
    sender, before = f"probe-{uuid.uuid4().hex[:8]}", ticket_count(stack)
    references = []
    for message_id in ("turn-1", "turn-1", "turn-2"):
        code, _, reply = request(webhook(stack, stack.settings.action_token()),
                                 action_call("action_create_ticket", sender, message_id,
                                             **TICKET_SLOTS),
                                 headers={"Content-Type": "application/json"})
        assert code == 200
        [message] = reply["responses"]
        assert message["response"] == "utter_ticket_created"
        references.append(message["reference"])
    assert references[0] == references[1] != references[2]
    assert ticket_count(stack) == before + 2


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", ["/webhook", "/actions", "/", "/health/../actions"])
def test_odd_methods_and_paths_need_the_token_too(stack, method, path):
    connection = http.client.HTTPConnection("127.0.0.1", stack.settings.action_port, timeout=30)
    try:
        connection.request(method, path, headers={"Origin": "http://evil.example",
                                                  "Access-Control-Request-Method": "POST"})
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 401
    if method != "HEAD":
        assert json.loads(body)["error"] == "missing_token"


def test_health_stays_open_and_says_nothing(stack):
    code, _, reply = request(f"{stack.settings.action_url}/health")
    assert code == 200 and reply == {"status": "ok"}


@pytest.mark.parametrize(("with_token", "status"), [(False, 401), (True, 413)])
def test_an_oversized_body_is_refused_before_it_is_read(stack, with_token, status):
    """A body claiming 200 MB of which 1 KB arrives: answered at once (the server does not
    wait for, or hold, the rest), refused for the token or, with it, for the size."""
    path = urllib.parse.urlparse(webhook(stack, stack.settings.action_token() if with_token
                                         else None))
    connection = http.client.HTTPConnection("127.0.0.1", stack.settings.action_port, timeout=30)
    try:
        connection.putrequest("POST", f"{path.path}?{path.query}" if path.query else path.path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(200 * 1024 * 1024))
        connection.endheaders()
        connection.send(b"{" * 1024)
        reply = connection.getresponse()
        reply.read()
    finally:
        connection.close()
    assert reply.status == status


def test_malformed_calls_with_the_token_get_clear_errors_and_run_nothing(stack):
    url, before = webhook(stack, stack.settings.action_token()), ticket_count(stack)
    headers = {"Content-Type": "application/json"}
    assert request(url, b"not json", headers=headers)[0] == 400
    code, _, reply = request(url, action_call("action_does_not_exist", "probe"), headers=headers)
    assert code == 404 and reply["action_name"] == "action_does_not_exist"
    for method in ("PUT", "DELETE", "PATCH"):  # Sanic's refusals keep their status, not a 500
        code, _, reply = request(url, b"{}", method=method, headers=headers)
        assert code == 405 and reply["error"] == "http_405"
    assert ticket_count(stack) == before


def test_a_flood_of_unauthenticated_calls_changes_nothing_and_citizens_are_served(stack):
    before = ticket_count(stack)
    body = action_call("action_create_ticket", "flood", **TICKET_SLOTS)
    codes = {request(webhook(stack, None if i % 2 else "guess"), body,
                     headers={"Content-Type": "application/json"})[0] for i in range(150)}
    assert codes == {401, 403} and ticket_count(stack) == before
    chat = RestConversation(stack.settings.rasa_url)  # Rasa still reaches its actions
    assert_reply(chat.texts("hello"), "utter_greet", "en")


# --- the REST channel: other channels' conversations -------------------------------------------

def rest(stack, sender: str, text: str) -> tuple[int, object]:
    code, _, reply = request(f"{stack.settings.rasa_url}/webhooks/rest/webhook",
                             json.dumps({"sender": sender, "message": text}).encode(),
                             headers={"Content-Type": "application/json"})
    return code, reply


def user_messages(stack, sender: str) -> list[str]:
    quoted = urllib.parse.quote(sender, safe="")
    _, _, tracker = request(f"{stack.settings.rasa_url}/conversations/{quoted}/tracker?"
                            f"token={stack.api_token}")
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


@pytest.mark.parametrize("sender", [
    "telegram:424242", "wechat:oFOREIGN-openid", "voice-1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    str(uuid.UUID(int=42, version=4)), " Telegram:424242", "tele\u200bgram:424242"])
def test_rest_refuses_other_channels_sender_ids(stack, sender):
    code, reply = rest(stack, sender, "我想查一下申请进度")
    assert code == 403 and reply["error"] == "foreign_sender"
    assert "其他渠道" in reply["message"]
    code, reply = rest(stack, sender, "what is the status of my application")
    assert code == 403 and "another channel" in reply["message"]
    assert user_messages(stack, sender.replace("\u200b", "")) == []


def test_rest_still_serves_its_own_sender_ids(stack):
    code, reply = rest(stack, f"citizen-{uuid.uuid4().hex[:8]}", "hello")
    assert code == 200 and {m["text"] for m in reply} & set(response_texts("utter_greet", "en"))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_rest_odd_methods_are_refused_without_a_crash(stack, method):
    code, _, _ = request(f"{stack.settings.rasa_url}/webhooks/rest/webhook", method=method,
                         body=b"{}" if method != "GET" else None)
    assert code in (404, 405)
    assert request(f"{stack.settings.rasa_url}/")[0] == 200


# --- secrets and state left on the machine ------------------------------------------------------

def stack_secrets(stack) -> dict[str, str]:
    settings = stack.settings
    return {"Rasa API token": stack.api_token, "action token": settings.action_token(),
            "staff API token": settings.staff_api_token(),
            "WeChat app secret": wechat.APP_SECRET, "WeChat token": wechat.TOKEN,
            "Telegram bot token": telegram.TOKEN, "Telegram webhook secret": telegram.SECRET}


def test_no_process_shows_a_secret_on_its_command_line(stack):
    secrets = stack_secrets(stack)
    ours = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:  # exited meanwhile
            continue
        ours += str(stack.settings.rasa_port) in line or str(stack.settings.state_dir) in line
        leaked = [name for name, value in secrets.items() if value in line]
        assert not leaked, f"{leaked} visible in /proc/{entry.name}/cmdline"
    assert ours >= 2  # the stack's processes were among those read


def test_state_folder_and_its_files_are_owner_only(stack):
    RestConversation(stack.settings.rasa_url).texts("你好")  # databases written just now
    state = stack.settings.state_dir
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("rasa.db", "gov.db", "secret.key", "action-server.token", "credentials.yml"):
        assert (state / name).is_file(), name
    exposed = []
    for folder, folders, files in os.walk(state):
        for name in (*folders, *files):
            path = Path(folder, name)
            if not path.is_symlink() and path.stat().st_mode & 0o077:
                exposed.append(f"{path.relative_to(state)} {stat.filemode(path.stat().st_mode)}")
    assert not exposed


# --- CORS on Rasa ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/webhooks/rest/webhook",
                                  "/socket.io/?EIO=4&transport=polling"])
def test_cors_answers_only_the_configured_page_origin(stack, path):
    url = f"{stack.settings.rasa_url}{path}"
    preflight = {"Access-Control-Request-Method": "POST"}
    for origin in ("http://evil.example", "null", f"{stack.settings.web_url}.evil.example"):
        for method, extra in (("GET", {}), ("OPTIONS", preflight)):
            _, headers, _ = request(url, method=method, headers={"Origin": origin, **extra})
            allowed = {key.lower(): value for key, value in headers.items()}
            assert "access-control-allow-origin" not in allowed, (origin, method)
    page = stack.settings.web_url
    assert page in stack.settings.allowed_origins
    _, headers, _ = request(url, method="OPTIONS", headers={"Origin": page, **preflight})
    allowed = {key.lower(): value for key, value in headers.items()}
    assert allowed.get("access-control-allow-origin") == page
