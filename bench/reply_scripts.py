"""How well a message's script is told (bot/text.py `script_of`) and what choosing the reply's
script costs per turn (bot/scripts.py), for docs/benchmarks.md "Replies in the citizen's script".

Detection is measured on real text (`../shared/data/real/`, aggregate figures only): the
Taipei FAQ's questions and answers (Traditional, written by officials), the message board's
letters (Simplified, written by citizens) and the English FAQ (no Chinese: nothing to tell).
Costs: choosing the script of a conversation from its events (the latest telling message near
the end, or none in 500 events), and converting a domain response with its buttons (utter_help's
Chinese variation).

    .venvs/rasa/bin/python bench/reply_scripts.py
"""

from __future__ import annotations

import sys
import timeit
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.real_data import load_real, message_text
from bot import scripts
from bot.text import SIMPLIFIED, TRADITIONAL, script_of

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Event:
    type_name: str
    text: str
    intent: dict


def detection() -> None:
    sets = {
        "taipei_faq.jsonl questions (Traditional)": ("taipei_faq.jsonl", lambda r: r["question"]),
        "taipei_faq.jsonl answers (Traditional)": ("taipei_faq.jsonl", lambda r: r["answer"]),
        "tipdm_labelled.jsonl letters (Simplified)": ("tipdm_labelled.jsonl", message_text),
        "tipdm_unlabelled.jsonl letters (Simplified)": ("tipdm_unlabelled.jsonl", message_text),
        "covid_faq_en.jsonl questions (English)": ("covid_faq_en.jsonl", lambda r: r["question"]),
    }
    print(f"{'set':46} {'n':>6} {'Traditional':>12} {'Simplified':>11} {'tells nothing':>14}")
    for label, (name, text_of) in sets.items():
        rows = load_real(name)
        if rows is None:
            continue
        counts = Counter(script_of(text_of(row) or "") for row in rows)
        n = len(rows)
        print(f"{label:46} {n:6d} {counts[TRADITIONAL] / n:12.4f} {counts[SIMPLIFIED] / n:11.4f}"
              f" {counts[None] / n:14.4f}")


def costs() -> None:
    def said(text: str, count: int) -> list[Event]:
        return [event for _ in range(count)
                for event in (Event("user", text, {"name": "ask"}), Event("bot", "好的", {}))]

    conversations = {
        "Traditional, then 5 numbers (12 events)": said("我想查詢申請進度", 1) + said("1", 5),
        "Simplified, 500 events": said("我想查询申请进度", 250),
        "English, 500 events (nothing tells)": said("How do I renew my passport?", 250),
    }
    scripts.conversation_script("warm-up", said("說说", 1))
    for label, events in conversations.items():
        seconds = timeit.timeit(lambda e=events: scripts.conversation_script("c", e), number=300)
        print(f"choose the script, {label:42} {seconds / 300 * 1e3:7.3f} ms")
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    [reply] = [{"text": v["text"], "buttons": v["buttons"]}
               for v in domain["responses"]["utter_help"] if v["condition"][0]["value"] == "zh"]
    seconds = timeit.timeit(lambda: scripts.message_in_script(reply, TRADITIONAL), number=300)
    print(f"convert utter_help ({len(reply['text'])} characters, 2 buttons, "
          f"{scripts.CONVERSION}){'':17} {seconds / 300 * 1e3:7.3f} ms")


if __name__ == "__main__":
    detection()
    costs()
