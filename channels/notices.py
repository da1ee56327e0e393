"""What a messaging channel (WeChat, Telegram) answers by itself, in both languages, when a
message gives the assistant nothing to read: the same words on every channel."""

from __future__ import annotations

from collections.abc import Iterable

UNSUPPORTED = {"zh": "目前只能处理文字和语音消息，请直接输入您的问题。",
               "en": "Sorry, I can only read text and voice messages; please type your question."}
NOT_HEARD = {"zh": "抱歉，没有听清您的语音，请再说一遍或直接输入文字。",
             "en": "Sorry, I couldn't make out the voice message; please try again or type it."}


def in_languages(notice: dict[str, str], languages: Iterable[str] = ("zh", "en")) -> str:
    """The notice in each language asked for, one per line."""
    return "\n".join(notice[language] for language in languages)
