"""One real stack (action server, Rasa server, web chat page) for the whole test session.

Start-up is the slow part, so every end-to-end test shares it. Ports are free ports picked
now and the state folder (tracker database, logs, caches) is a fresh temporary one.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Iterator

import pytest

from stack.data import ensure_data
from stack.services import running_stack
from stack.settings import Settings
from stack.training import ensure_model


@dataclasses.dataclass(frozen=True)
class RunningStack:
    settings: Settings
    api_token: str


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings().isolated(state)
    token = secrets.token_urlsafe(16)
    ensure_data(settings)
    model = ensure_model(settings)
    with running_stack(settings, model, api_token=token):
        yield RunningStack(settings, token)
