"""Citizens talking continuously to the REST channel while something breaks, each checking that
their conversation goes on where it was (the fault tests in tests/e2e/test_supervised_faults.py
and `make bench-faults`, bench/faults.py).

Each citizen, in a thread of its own, holds verified status look-ups (demo applications) in
Chinese or English — ask, give the number, give the verification digits, read the status —
and then asks a policy question, pausing `think` s on average between messages. Every answer
is sorted:

- **ok**: what the conversation expects next;
- **failed request**: no answer (HTTP error, refused, timeout, empty) or the "service
  unavailable" apology. The citizen says the same again a second later, up to 3 times, as
  people do;
- **lost conversation**: any other answer (the form forgot where it was, or started over), or a
  message still failing after the retries. The citizen starts a new conversation.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.seed import demo_applicants
from tests.helpers import response_texts

RETRIES = 3
# Texts one message after another: (message, check of the answer's texts).
Step = tuple[str, Callable[[list[str]], bool]]


def _is(response: str, language: str) -> Callable[[list[str]], bool]:
    expected = set(response_texts(response, language))
    return lambda texts: bool(expected & set(texts))


def _starts(prefix: str) -> Callable[[list[str]], bool]:
    return lambda texts: any(text.startswith(prefix) for text in texts)


def _answered(texts: list[str]) -> bool:
    return any(texts)


def conversation(rng: random.Random) -> list[Step]:
    """A verified status look-up and a policy question, in one of the two languages."""
    person = rng.choice(demo_applicants(40))
    if rng.random() < 0.5:
        return [("我想查一下申请进度", _is("utter_ask_reference_number", "zh")),
                (person.number, _is("utter_ask_verification_code", "zh")),
                (person.phone[-4:], _starts(f"申请 {person.number}")),
                (rng.choice(["公积金可以提取吗", "结婚登记要带什么"]), _answered)]
    return [("I want to check my application", _is("utter_ask_reference_number", "en")),
            (person.number, _is("utter_ask_verification_code", "en")),
            (person.phone[-4:], _starts(f"Application {person.number}")),
            (rng.choice(["How do I register a marriage?", "Can I withdraw my housing fund?"]),
             _answered)]


def apologies() -> set[str]:
    return set(response_texts("utter_service_unavailable", "zh")) | \
        set(response_texts("utter_service_unavailable", "en"))


@dataclass
class Tally:
    """What the citizens met; shared by their threads (under `lock`)."""

    requests: int = 0
    failed: Counter = field(default_factory=Counter)  # kind → count
    conversations: int = 0
    completed: int = 0
    lost: list[str] = field(default_factory=list)  # what went wrong, one line each
    silent: int = 0  # answers with nothing in them at all
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def failed_requests(self) -> int:
        return sum(self.failed.values())

    def summary(self) -> str:
        share = self.failed_requests / self.requests if self.requests else 0.0
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items()))
        return (f"{self.requests} requests, {self.failed_requests} failed ({share:.2%}"
                f"{'; ' + kinds if kinds else ''}); {self.conversations} conversations, "
                f"{self.completed} completed, {len(self.lost)} lost")


class Citizens:
    """`count` citizens talking to `rasa_url` from when the block is entered until it ends;
    a conversation still going at the end counts neither as completed nor as lost."""

    def __init__(self, rasa_url: str, count: int, think: float = 1.5, seed: int = 0,
                 timeout: float = 60.0) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.count, self.think, self.seed, self.timeout = count, think, seed, timeout
        self.tally = Tally()
        self.apologies = apologies()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Citizens:
        for number in range(self.count):
            thread = threading.Thread(target=self._citizen, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def _say(self, sender: str, message: str) -> tuple[list[str] | None, str]:
        """The answer's texts, or None and what went wrong."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(self.url, data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                answer = json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return None, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, type(getattr(error, "reason", error)).__name__
        texts = [m.get("text") or "" for m in answer if isinstance(m, dict)]
        if not texts:
            return None, "no answer"
        if any(text in self.apologies for text in texts):
            return None, "apology"
        return texts, ""

    def _citizen(self, number: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + number)
        self._stop.wait(rng.uniform(0, self.think))  # not everyone at once
        while not self._stop.is_set():
            sender = f"citizen-{uuid.uuid4().hex[:12]}"
            with self.tally.lock:
                self.tally.conversations += 1
            outcome = self._converse(rng, sender)
            with self.tally.lock:
                if outcome == "":
                    self.tally.completed += 1
                elif outcome is not None:
                    self.tally.lost.append(f"{sender}: {outcome}")
                else:
                    self.tally.conversations -= 1  # cut short by the end of the block

    def _converse(self, rng: random.Random, sender: str) -> str | None:
        """"" when the conversation went as it should, else what went wrong; None if the
        block ended first."""
        for index, (message, expected) in enumerate(conversation(rng)):
            for attempt in range(RETRIES + 1):
                if self._stop.wait(rng.expovariate(1 / self.think) if attempt == 0 else 1.0):
                    return None
                texts, problem = self._say(sender, message)
                with self.tally.lock:
                    self.tally.requests += 1
                    if problem:
                        self.tally.failed[problem] += 1
                        self.tally.silent += problem == "no answer"
                if texts is not None:
                    break
            else:
                return f"turn {index + 1} still failing after {RETRIES} retries ({problem})"
            if not expected(texts):
                return f"turn {index + 1} answered out of place: {texts[:2]}"
        return ""
