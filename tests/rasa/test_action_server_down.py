"""With the action server down, the real Rasa server still answers: a polite apology in the
citizen's language instead of silence (bot/resilience.py), and rule-based replies as usual.
With the speech service down too, the voice channel says so in writing (and gives the hotline).
The server runs with GOV_LOG_FORMAT=json, as in production mode: its log is JSON lines."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from common.settings import PROJECT_ROOT, Settings, _free_port
from stack.credentials import write_credentials
from stack.services import Service, wait_until_ready
from stack.training import model_path

APOLOGY = {
    "zh": "抱歉，系统暂时无法处理这个请求，请稍后再试，或拨打 12345 政务服务热线。",
    "en": "Sorry, I can't handle this request right now. Please try again shortly, "
          "or call the 12345 government service hotline.",
}


@pytest.fixture(scope="module")
def rasa_process(tmp_path_factory):
    """The Rasa server's URL and its log file (stdout and stderr)."""
    settings = Settings().isolated(tmp_path_factory.mktemp("state"))
    model = model_path(Settings())
    assert model.is_file(), "run `make setup` first (make test does)"
    env = {**settings.process_env(), "GOV_LOG_FORMAT": "json", "ACTION_ENDPOINT_URL":
           f"http://127.0.0.1:{_free_port()}/webhook"}  # nobody listens there
    # the stack's own channel configuration; no speech service runs on settings.speech_port
    credentials = write_credentials(settings)
    rasa = Service(
        name="rasa server",
        argv=[str(settings.rasa_venv / "bin" / "python"), "-m", "services.rasa_server", "run",
              "--model", str(model), "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
              "--credentials", str(credentials),
              "--interface", settings.host, "--port", str(settings.rasa_port)],
        health_url=f"{settings.rasa_url}/", log_path=settings.logs_dir / "rasa.log")
    rasa.start(env)
    try:
        wait_until_ready([rasa], settings.ready_timeout)
        yield settings.rasa_url, rasa.log_path
    finally:
        rasa.stop()


@pytest.fixture(scope="module")
def rasa_without_actions(rasa_process):
    return rasa_process[0]


def say(url: str, sender: str, text: str) -> list[str]:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", headers={"Content-Type": "application/json"},
        data=json.dumps({"sender": sender, "message": text}).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        return [message.get("text", "") for message in json.loads(response.read())]


def test_policy_question_gets_an_apology_not_silence(rasa_without_actions):
    assert say(rasa_without_actions, uuid.uuid4().hex, "公积金可以提取吗") == [APOLOGY["zh"]]
    english = "How do I withdraw money from my housing provident fund?"
    assert say(rasa_without_actions, uuid.uuid4().hex, english) == [APOLOGY["en"]]


def test_rule_replies_still_work(rasa_without_actions):
    replies = say(rasa_without_actions, uuid.uuid4().hex, "你好")
    assert replies and APOLOGY["zh"] not in replies


def test_health_readiness_and_metrics(rasa_without_actions):
    def get(path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"{rasa_without_actions}{path}", timeout=30) as reply:
            return reply.status, reply.read().decode()

    assert get("/healthz")[0] == 200
    assert json.loads(get("/readyz")[1]) == {"ready": True}
    def turns(metrics: str) -> float:
        found = re.search(r'gov_turns_total\{channel="rest"\} ([\d.]+)', metrics)
        return float(found.group(1)) if found else 0.0

    before = turns(get("/metrics")[1])
    say(rasa_without_actions, uuid.uuid4().hex, "asdkjh qwpoe zmxn")  # nonsense: not understood
    status, metrics = get("/metrics")
    assert status == 200 and turns(metrics) == before + 1
    assert 'gov_turn_seconds_bucket{channel="rest",le="0.5"}' in metrics
    assert re.search(r'gov_fallbacks_total\{channel="rest",intent="\w+"\} [1-9]', metrics)


def test_the_log_is_json_lines_with_a_line_per_turn(rasa_process):
    url, log_path = rasa_process
    sender = uuid.uuid4().hex
    say(url, sender, "How do I withdraw money from my housing provident fund?")
    lines = log_path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line, or this fails
    assert {entry["service"] for entry in entries} == {"rasa-server"}
    assert any(entry["message"] == "Rasa server is up and running." for entry in entries)
    turn = [entry for entry in entries if entry["message"] == "turn"][-1]
    assert turn["channel"] == "rest" and turn["outcome"] == "ok" and turn["latency_ms"] > 0
    assert len(turn["sender"]) == 16 and sender not in "\n".join(lines)
    assert any(entry["level"] == "ERROR" and entry["logger"] == "bot.resilience"
               for entry in entries)  # the action server is down


def test_voice_channel_without_speech_service_apologises_in_writing(rasa_without_actions):
    boundary = uuid.uuid4().hex
    fields = {"language": "en"}  # a first turn: the channel issues the conversation
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   f"{value}\r\n" for name, value in fields.items()).encode()
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; '
             f'filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n').encode()
    body += b"RIFF" + b"\x00" * 2000 + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{rasa_without_actions}/webhooks/voice/webhook", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    reply = json.loads(refused.value.read())
    assert refused.value.code == 503 and reply["error"] == "unavailable"
    assert "voice service is unavailable" in reply["text"] and "12345" in reply["text"]
    assert reply["audio"] is None  # nothing to speak it with; the page shows the text


def test_a_form_that_cannot_reach_its_actions_apologises_once(rasa_without_actions):
    """Starting the status look-up needs the action server twice (the language, then the
    form's validation): one apology, not two, and not silence."""
    assert say(rasa_without_actions, uuid.uuid4().hex, "我想查一下申请进度") == [APOLOGY["zh"]]
    assert say(rasa_without_actions, uuid.uuid4().hex, "I want to check my application") \
        == [APOLOGY["en"]]
