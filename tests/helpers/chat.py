"""A minimal REST-channel client for the tests."""

from __future__ import annotations

import json
import urllib.request
import uuid

from helpers import response_texts


class RestConversation:
    """One citizen talking to the Rasa REST channel (`/webhooks/rest/webhook`)."""

    def __init__(self, rasa_url: str, sender: str | None = None) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"

    def say(self, text: str, request_id: str | None = None) -> list[dict]:
        """The replies; `request_id` as a balancer in front of Rasa would send it."""
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        headers = {"Content-Type": "application/json"}
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        request = urllib.request.Request(self.url, data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def texts(self, text: str, request_id: str | None = None) -> list[str]:
        return [message.get("text", "") for message in self.say(text, request_id)]


def assert_reply(texts: list[str], response: str, language: str, **slots: str) -> None:
    """One of `texts` is a variation of domain response `response` in `language`."""
    expected = [t.format(**slots) for t in response_texts(response, language)]
    assert any(text in expected for text in texts), f"expected {response}/{language}, got {texts}"
