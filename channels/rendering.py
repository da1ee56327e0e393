"""Bot messages as plain text, for channels without buttons (WeChat text replies)."""

from __future__ import annotations

from typing import Any

from bot import scripts

_OPTIONS = {"zh": "您可以回复：", "en": "You can reply:"}


def as_plain_text(messages: list[dict[str, Any]], language: str = "zh") -> str:
    """All of a turn's messages in one text; buttons become reply suggestions by title."""
    parts = []
    for message in messages:
        text = (message.get("text") or "").strip()
        titles = [button.get("title", "") for button in message.get("buttons") or []]
        if titles:
            label = _OPTIONS["zh" if _mostly_chinese(text) else "en"] if text else \
                _OPTIONS[language]
            label = scripts.like(label, text)  # 您可以回覆 under a reply in Traditional
            text = f"{text}\n{label}" + "".join(f"\n· {title}" for title in titles if title)
        if text:
            parts.append(text)
    return "\n\n".join(parts)


def _mostly_chinese(text: str) -> bool:
    han = sum("\u4e00" <= char <= "\u9fff" for char in text)
    return han * 2 >= sum(char.isalpha() for char in text)
