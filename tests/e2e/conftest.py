"""One real stack (action server, Rasa server, web chat page, staff API) for the whole session.

Start-up is the slow part, so every end-to-end test shares it. Ports are free ports picked
now and the state folder (tracker database, logs, caches) is a fresh temporary one. WeChat
(safe mode) and Telegram are switched on, pointed at local fakes of their platforms' APIs.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from contextlib import ExitStack
from typing import Iterator

import pytest

from common.settings import Settings
from fakes import telegram, wechat
from fakes.server import BackgroundServer
from stack.data import ensure_data
from stack.services import running_stack
from stack.training import ensure_model


@dataclasses.dataclass(frozen=True)
class RunningStack:
    settings: Settings
    api_token: str
    wechat_api: wechat.FakeWeChatApi
    telegram_api: telegram.FakeTelegramApi

    @property
    def wechat_url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/wechat/webhook"

    @property
    def telegram_url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/telegram/webhook"


def channel_environment(settings: Settings, wechat_base: str, telegram_base: str) -> dict:
    return {
        "GOV_WECHAT_TOKEN": wechat.TOKEN, "GOV_WECHAT_APP_ID": wechat.APP_ID,
        "GOV_WECHAT_APP_SECRET": wechat.APP_SECRET, "GOV_WECHAT_AES_KEY": wechat.AES_KEY,
        "GOV_WECHAT_API_BASE": f"{wechat_base}/cgi-bin/",
        "GOV_TELEGRAM_TOKEN": telegram.TOKEN, "GOV_TELEGRAM_BOT_NAME": telegram.BOT_NAME,
        "GOV_TELEGRAM_API_BASE": telegram_base, "GOV_TELEGRAM_SECRET": telegram.SECRET,
        "GOV_TELEGRAM_WEBHOOK_URL": f"{settings.rasa_url}/webhooks/telegram/webhook",
    }


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings().isolated(state)
    token = secrets.token_urlsafe(16)
    wechat_api, telegram_api = wechat.FakeWeChatApi(), telegram.FakeTelegramApi()
    with ExitStack() as cleanup:
        wechat_server = cleanup.enter_context(BackgroundServer(wechat_api.app()))
        telegram_server = cleanup.enter_context(BackgroundServer(telegram_api.app()))
        saved = dict(os.environ)
        cleanup.callback(lambda: (os.environ.clear(), os.environ.update(saved)))
        os.environ.update(channel_environment(settings, wechat_server.url, telegram_server.url))
        # A fresh installation: its own tokens in its own state folder, not the ones `make
        # test` was given for var/. The tests' own calls to the speech service use its token.
        for inherited in ("GOV_ACTION_TOKEN", "GOV_SPEECH_TOKEN"):
            os.environ.pop(inherited, None)
        os.environ["GOV_SPEECH_TOKEN"] = settings.speech_token()
        ensure_data(settings)
        model = ensure_model(settings)
        cleanup.enter_context(running_stack(settings, model, api_token=token))
        yield RunningStack(settings, token, wechat_api, telegram_api)
