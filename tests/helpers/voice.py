"""A citizen talking to the voice channel: questions are spoken by the speech service's own
voices, then uploaded as a recording would be."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid

from speech.auth import token_headers


def synthesize(speech_url: str, text: str, language: str, rate: float = 1.0,
               token: str | None = None) -> bytes:
    """A WAV of `text`, from the running speech service (its token: the stack's, which the
    test run shares through GOV_SPEECH_TOKEN unless given)."""
    body = json.dumps({"text": text, "language": language, "rate": rate}).encode()
    token = os.environ.get("GOV_SPEECH_TOKEN", "") if token is None else token
    request = urllib.request.Request(f"{speech_url}/v1/synthesize", data=body, headers={
        "Content-Type": "application/json", **token_headers(token)})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return reply.read()


def transcribed(speech_url: str, audio: bytes, token: str | None = None) -> dict:
    """The speech service's reading of a recording (language auto), as the channels ask it."""
    token = os.environ.get("GOV_SPEECH_TOKEN", "") if token is None else token
    request = urllib.request.Request(f"{speech_url}/v1/transcribe?language=auto", data=audio,
                                     headers={"Content-Type": "audio/wav",
                                              **token_headers(token)})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def unsure_recording(speech_url: str, text: str, language: str) -> bytes:
    """A recording of `text` (a phrase said over and over) that the recogniser reads back
    rather than acts on ("check"). Whisper's decode of the same synthetic audio differs between
    CPUs: at one speed it keeps the repetition, at another it writes the phrase once with
    middling confidence. The channel tests are about what happens to an unsure transcript, so
    they take the first speed the recogniser is unsure of; none at all is a failure."""
    seen = []
    for rate in (1.0, 0.8, 1.2):
        audio = synthesize(speech_url, text, language, rate=rate)
        heard = transcribed(speech_url, audio)
        if heard.get("quality") == "check":
            return audio
        seen.append((rate, heard.get("quality"), heard.get("confidence"), heard.get("text")))
    raise AssertionError(f"the recogniser was sure of every reading of a repeated phrase: {seen}")


def multipart(fields: dict[str, str], files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, data in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{name}.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_form(url: str, fields: dict[str, str], files: dict[str, bytes] | None = None,
              method: str = "POST") -> tuple[int, dict]:
    """A multipart request as the page sends it; (status, JSON reply)."""
    body, content_type = multipart(fields, files or {})
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class VoiceConversation:
    """Keeps what the page keeps: the conversation id and key the channel issued with its first
    reply, the pending question, the last thing said."""

    def __init__(self, rasa_url: str, speech_url: str, language: str) -> None:
        self.url = f"{rasa_url}/webhooks/voice/webhook"
        self.updates_url = f"{rasa_url}/webhooks/voice/updates"
        self.speech_url = speech_url
        self.language = language
        self.sender: str | None = None
        self.sender_key: str | None = None
        self.pending: dict | None = None
        self.previous = ""

    @property
    def credentials(self) -> dict[str, str]:
        return {"sender": self.sender, "sender_key": self.sender_key} if self.sender else {}

    def post(self, fields: dict[str, str], files: dict[str, bytes]) -> tuple[int, dict]:
        return post_form(self.url, fields, files)

    def send(self, audio: bytes | None = None, text: str | None = None) -> tuple[int, dict]:
        fields = {**self.credentials, "language": self.language, "previous": self.previous}
        if self.pending:
            fields["pending"] = json.dumps(self.pending, ensure_ascii=False)
        if text is not None:
            fields["text"] = text
        status, reply = self.post(fields, {"audio": audio} if audio is not None else {})
        if status == 200:
            self.pending, self.previous = reply["pending"], reply["spoken"]
        if reply.get("sender"):  # issued with the first reply (an explanation too)
            self.sender, self.sender_key = reply["sender"], reply["sender_key"]
        return status, reply

    def updates(self, after: float) -> dict:
        status, reply = post_form(self.updates_url, {**self.credentials, "after": str(after),
                                                     "language": self.language})
        assert status == 200, reply
        return reply

    def say(self, sentence: str, rate: float = 1.0) -> dict:
        status, reply = self.send(synthesize(self.speech_url, sentence, self.language, rate))
        assert status == 200, reply
        return reply
