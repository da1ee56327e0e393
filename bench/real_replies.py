"""What real citizens' messages get as the assistant's first reply (docs/benchmarks.md).

Sends messages of a provincial message board (`../shared/data/real/tipdm_labelled.jsonl` and
`tipdm_unlabelled.jsonl`, subject line then details, as a citizen would paste them), each as a
new conversation, to a freshly started isolated stack (real Rasa NLU, rules and action server,
REST channel), and sorts each first reply by the tracker: a knowledge-base answer (a policy
passage with a citation), the request flow, a status look-up, a decline (no reliable answer,
out of scope, not understood) or other. Messages whose subject asks a question (咨询, 请问, a
question mark) are reported apart from the complaints and requests, which are the targets'
denominator. Only aggregate figures are printed; the real texts never leave the data folder.

    make bench-real-replies        (or: python bench/real_replies.py --messages 320)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common.settings import PROJECT_ROOT, Settings
from stack.data import ensure_data
from stack.services import running_stack
from stack.training import ensure_model

REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"
FILES = ("tipdm_labelled.jsonl", "tipdm_unlabelled.jsonl")
KINDS = ("KB answer", "request flow", "request flow + passage", "status look-up", "decline",
         "other")
REQUEST_UTTERANCES = {"utter_ask_request_text", "utter_request_too_vague",
                      "utter_confirm_department", "utter_choose_department",
                      "utter_choose_any_department"}
STATUS_UTTERANCES = {"utter_ask_reference_number", "utter_ask_verification_code",
                     "utter_invalid_reference"}
DECLINE_UTTERANCES = {"utter_kb_no_answer", "utter_out_of_scope", "utter_default",
                      "utter_handoff_after_failures", "utter_kb_which_service"}
MAX_CHARS = 2000  # the REST channel's limit (channels/rest.py); longer letters are cut there
# A subject that asks rather than reports (decided from the subject alone, not by the bot's cues).
_ASKS = re.compile(r"咨询|请问|询问|[？?]\s*$|吗\s*$")
TARGET_PASSAGES, TARGET_REQUEST_FLOW = 0.03, 0.90


def load_messages(count: int, seed: int) -> list[dict[str, str]]:
    """`count` messages, half from each file, drawn with a fixed seed."""
    messages = []
    for name in FILES:
        rows = [json.loads(line) for line in (REAL_DATA / name).read_text("utf-8").splitlines()
                if line.strip()]
        random.Random(seed).shuffle(rows)
        messages += rows[: count // len(FILES)]
    return messages


def message_text(row: dict[str, str]) -> str:
    text = f"{row.get('subject', '').strip()}\n{row.get('details', '').strip()}".strip()
    return text.replace("_x000D_", "")[:MAX_CHARS]


def first_reply_kind(events: list[dict]) -> str:
    """The kind of the bot's reply to the conversation's first message, from the tracker; a
    request flow that added the passage answering the letter's own question about the rules
    is "request flow + passage"."""
    actions = {event.get("name") for event in events if event.get("event") == "action"}
    loops = {event.get("name") for event in events if event.get("event") == "active_loop"}
    utterances = {(event.get("metadata") or {}).get("utter_action")
                  for event in events if event.get("event") == "bot"}
    if "utter_request_related_passage" in utterances:
        return "request flow + passage"
    if "utter_kb_answer" in utterances:
        return "KB answer"
    if "ticket_form" in loops or utterances & REQUEST_UTTERANCES:
        return "request flow"
    if "status_check_form" in loops or utterances & STATUS_UTTERANCES:
        return "status look-up"
    if utterances & DECLINE_UTTERANCES or "action_default_fallback" in actions:
        return "decline"
    return "other"


def converse(rasa_url: str, token: str, text: str) -> str:
    sender = f"real-{uuid.uuid4().hex[:16]}"
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{rasa_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    with urllib.request.urlopen(
            f"{rasa_url}/conversations/{sender}/tracker?token={token}", timeout=60) as response:
        return first_reply_kind(json.loads(response.read()).get("events") or [])


def report(title: str, kinds: list[str]) -> None:
    counts = Counter(kinds)
    shares = "  ".join(f"{kind} {counts[kind] / len(kinds):6.1%}" for kind in KINDS)
    print(f"{title:<28} n={len(kinds):<4} {shares}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=320)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--model", type=Path, help="a trained model (default: the current one)")
    args = parser.parse_args()
    if not all((REAL_DATA / name).is_file() for name in FILES):
        print(f"real messages: {REAL_DATA} not present, skipped")
        return 0
    rows = load_messages(args.messages, args.seed)
    state = Path(tempfile.mkdtemp(prefix="gov-real-"))
    settings = Settings().isolated(state)
    ensure_data(settings)
    model = args.model or ensure_model(settings)
    token = secrets.token_urlsafe(24)
    print(f"real messages: {len(rows)} from {', '.join(FILES)}   model {model.name}", flush=True)
    with running_stack(settings, model, api_token=token):
        started = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            kinds = list(pool.map(lambda row: converse(settings.rasa_url, token,
                                                       message_text(row)), rows))
        elapsed = time.perf_counter() - started
    asks = [bool(_ASKS.search(row.get("subject", ""))) for row in rows]
    requests = [kind for kind, asked in zip(kinds, asks, strict=True) if not asked]
    questions = [kind for kind, asked in zip(kinds, asks, strict=True) if asked]
    print(f"first replies ({elapsed:.0f} s, {elapsed / len(rows):.2f} s per message):")
    report("all messages", kinds)
    report("complaints and requests", requests)
    if questions:
        report("subject asks a question", questions)
    counts = Counter(requests)
    passages = counts["KB answer"] / len(requests)
    flow = (counts["request flow"] + counts["request flow + passage"]) / len(requests)
    print(f"complaints/requests answered with a policy passage: {passages:.1%} "
          f"(target <= {TARGET_PASSAGES:.0%})   reaching the request flow: {flow:.1%} "
          f"(target >= {TARGET_REQUEST_FLOW:.0%}), of which with a passage for their question: "
          f"{counts['request flow + passage'] / len(requests):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
