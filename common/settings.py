"""The stack's addresses, folders, tokens and supervision settings, read from the environment
through the one settings registry (common/registry.py: types, defaults, documentation)."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
from dataclasses import dataclass
from pathlib import Path

from common.registry import PROJECT_ROOT, from_env, setting
from common.secrets import make_private, persistent_secret

LOOPBACK = ("127.0.0.1", "localhost", "::1")
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
WILDCARD = ("0.0.0.0", "::", "")


def _free_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999): ports there are also handed to
    outgoing connections, which under load take one before the service that was given it
    binds it (seen as "address already in use" in the fault tests)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32768)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_state_dir() -> Path:
    """GOV_STATE_DIR: tracker DB, database, knowledge base, logs, caches."""
    return setting("GOV_STATE_DIR")


@dataclass(frozen=True)
class Settings:
    host: str = from_env("GOV_HOST")
    rasa_port: int = from_env("GOV_RASA_PORT")
    action_port: int = from_env("GOV_ACTION_PORT")
    # Loopback unless the action servers must be reached from other machines (README
    # "Security model"); they refuse every call without the action token either way.
    action_host: str = from_env("GOV_ACTION_HOST")
    web_port: int = from_env("GOV_WEB_PORT")
    staff_port: int = from_env("GOV_STAFF_PORT")
    speech_port: int = from_env("GOV_SPEECH_PORT")
    # The supervisor's own readiness and metrics (stack/supervisor.py).
    supervisor_port: int = from_env("GOV_SUPERVISOR_PORT")
    state_dir: Path = from_env("GOV_STATE_DIR")
    models_dir: Path = from_env("GOV_MODELS_DIR")
    rasa_venv: Path = from_env("GOV_RASA_VENV")
    app_venv: Path = from_env("GOV_APP_VENV")
    tracker_db: Path = from_env("GOV_TRACKER_DB")
    # Page origins allowed to call Rasa from a browser (comma- or space-separated); empty means
    # the web chat page's own origin (`allowed_origins`).
    cors_origins: str = from_env("GOV_CORS_ORIGINS")
    # Sites allowed to embed the web chat page (/embed.js), e.g. "https://www.example.gov.cn".
    frame_ancestors: str = from_env("GOV_WEBCHAT_FRAME_ANCESTORS")
    ready_timeout: float = from_env("GOV_READY_TIMEOUT")

    def staff_api_token(self) -> str:
        """GOV_STAFF_API_TOKEN, else a token generated once into the state folder."""
        return setting("GOV_STAFF_API_TOKEN") or persistent_secret(
            self.state_dir / "staff-api.token")

    def action_token(self) -> str:
        """GOV_ACTION_TOKEN, else a token generated once into the state folder: Rasa sends it
        with every action call and the action server refuses calls without it."""
        return setting("GOV_ACTION_TOKEN") or persistent_secret(
            self.state_dir / "action-server.token")

    def speech_token(self) -> str:
        """GOV_SPEECH_TOKEN, else a token generated once into the state folder: the voice and
        WeChat channels send it and the speech service refuses calls without it."""
        return setting("GOV_SPEECH_TOKEN") or persistent_secret(
            self.state_dir / "speech-service.token")

    @property
    def allowed_origins(self) -> list[str]:
        """GOV_CORS_ORIGINS as a list, by default the web chat page's origin (the voice page
        is served from it too) under the names a browser on this machine uses for it."""
        configured = self.cors_origins.replace(",", " ").split()
        if configured:
            return configured
        hosts = [self.host] if self.host not in LOOPBACK + WILDCARD else []
        return [f"http://{host}:{self.web_port}" for host in [*hosts, *LOOPBACK_NAMES]]

    @property
    def staff_url(self) -> str:
        return f"http://{self.host}:{self.staff_port}"

    @property
    def speech_url(self) -> str:
        return f"http://{self.host}:{self.speech_port}"

    @property
    def supervisor_url(self) -> str:
        return f"http://{self.host}:{self.supervisor_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return self.action_url_on(self.action_port)

    def action_url_on(self, port: int) -> str:
        """An action server on this machine (GOV_ACTION_HOST, loopback when it is a wildcard)."""
        host = "127.0.0.1" if self.action_host in WILDCARD else self.action_host
        return f"http://{host}:{port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def isolated(self, state_dir: Path) -> Settings:
        """A copy on free ports with its own state folder, to run beside `make run`."""
        return dataclasses.replace(
            self, rasa_port=_free_port(), action_port=_free_port(), web_port=_free_port(),
            staff_port=_free_port(), speech_port=_free_port(),
            supervisor_port=_free_port(), state_dir=state_dir,
            tracker_db=state_dir / "rasa.db",
        )

    def process_env(self) -> dict[str, str]:
        """Environment for every child process: no telemetry, every cache under state_dir."""
        home = self.state_dir / "home"
        tmp = self.state_dir / "tmp"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        make_private(self.state_dir, self.tracker_db)
        for folder in (home, tmp, self.cache_dir, self.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
                ),
                "RASA_TELEMETRY_ENABLED": "false",
                "HOME": str(home),
                "TMPDIR": str(tmp),
                "MPLCONFIGDIR": str(self.cache_dir / "matplotlib"),
                "KERAS_HOME": str(self.cache_dir / "keras"),
                "GOV_ASSISTANT_CACHE_DIR": str(self.cache_dir / "jieba"),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                # Rasa 3.6's own tracker store uses SQLAlchemy 1.4's legacy API; nothing here
                # can fix its "MovedIn20Warning" at every start.
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "ACTION_ENDPOINT_URL": f"{self.action_url}/webhook",
                "GOV_ACTION_TOKEN": self.action_token(),  # endpoints.yml: Rasa sends it
                "GOV_SPEECH_TOKEN": self.speech_token(),  # speech/auth.py
                "GOV_TRACKER_DB": str(self.tracker_db),
                "GOV_STATE_DIR": str(self.state_dir),
            }
        )
        return env


@dataclass(frozen=True)
class SupervisionSettings:
    """When the supervisor restarts a service that died, and when it gives up (README
    "Supervision")."""

    # More deaths of one service than this within the window is a crash loop: stop the stack.
    restart_limit: int = from_env("GOV_RESTART_LIMIT")
    restart_window: float = from_env("GOV_RESTART_WINDOW_SECONDS")
    # Back-off before a restart: first delay, doubled per failure in a row, up to the maximum.
    backoff_first: float = from_env("GOV_RESTART_BACKOFF_SECONDS")
    backoff_max: float = from_env("GOV_RESTART_BACKOFF_MAX_SECONDS")
    # Ready this long after a restart: the next death starts the back-off from the beginning.
    stable_after: float = from_env("GOV_RESTART_STABLE_SECONDS")
    # PostgreSQL or Redis unreachable this long stops the stack (0: wait for ever).
    dependency_timeout: float = from_env("GOV_DEPENDENCY_TIMEOUT_SECONDS")
