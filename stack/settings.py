"""Every setting of the running stack, in one place: environment variables with defaults.

README.md ("Configuration") documents each variable. Paths are relative to the project root
unless given absolute.
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env(name: str, default: str) -> str:
    """A setting from the environment; unset or empty means the default."""
    return os.environ.get(name) or default


def env_path(name: str, default: str) -> Path:
    """A path setting; relative paths are taken from the project root."""
    path = Path(env(name, default))
    return path if path.is_absolute() else PROJECT_ROOT / path


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
    return env_path("GOV_STATE_DIR", "var")


def persistent_secret(path: Path) -> str:
    """A random secret kept in an owner-only file, created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    host: str = field(default_factory=lambda: env("GOV_HOST", "127.0.0.1"))
    rasa_port: int = field(default_factory=lambda: int(env("GOV_RASA_PORT", "5005")))
    action_port: int = field(default_factory=lambda: int(env("GOV_ACTION_PORT", "5055")))
    web_port: int = field(default_factory=lambda: int(env("GOV_WEB_PORT", "8080")))
    staff_port: int = field(default_factory=lambda: int(env("GOV_STAFF_PORT", "8081")))
    speech_port: int = field(default_factory=lambda: int(env("GOV_SPEECH_PORT", "8082")))
    # The supervisor's own readiness and metrics (stack/supervisor.py).
    supervisor_port: int = field(
        default_factory=lambda: int(env("GOV_SUPERVISOR_PORT", "8083")))
    state_dir: Path = field(default_factory=default_state_dir)
    models_dir: Path = field(default_factory=lambda: env_path("GOV_MODELS_DIR", "models"))
    rasa_venv: Path = field(default_factory=lambda: env_path("GOV_RASA_VENV", ".venvs/rasa"))
    app_venv: Path = field(default_factory=lambda: env_path("GOV_APP_VENV", ".venvs/app"))
    tracker_db: Path = field(
        default_factory=lambda: env_path("GOV_TRACKER_DB", str(default_state_dir() / "rasa.db"))
    )
    cors_origins: str = field(default_factory=lambda: env("GOV_CORS_ORIGINS", "*"))
    # Sites allowed to embed the web chat page (/embed.js), e.g. "https://www.example.gov.cn".
    frame_ancestors: str = field(
        default_factory=lambda: env("GOV_WEBCHAT_FRAME_ANCESTORS", "*"))
    ready_timeout: float = field(
        default_factory=lambda: float(env("GOV_READY_TIMEOUT", "300"))
    )

    def staff_api_token(self) -> str:
        """GOV_STAFF_API_TOKEN, else a token generated once into the state folder."""
        return env("GOV_STAFF_API_TOKEN", "") or persistent_secret(
            self.state_dir / "staff-api.token")

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
        return f"http://{self.host}:{self.action_port}"

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
                "ACTION_ENDPOINT_URL": f"{self.action_url}/webhook",
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
    restart_limit: int = field(default_factory=lambda: int(env("GOV_RESTART_LIMIT", "5")))
    restart_window: float = field(
        default_factory=lambda: float(env("GOV_RESTART_WINDOW_SECONDS", "600")))
    # Back-off before a restart: first delay, doubled per failure in a row, up to the maximum.
    backoff_first: float = field(
        default_factory=lambda: float(env("GOV_RESTART_BACKOFF_SECONDS", "1")))
    backoff_max: float = field(
        default_factory=lambda: float(env("GOV_RESTART_BACKOFF_MAX_SECONDS", "30")))
    # Ready this long after a restart: the next death starts the back-off from the beginning.
    stable_after: float = field(
        default_factory=lambda: float(env("GOV_RESTART_STABLE_SECONDS", "60")))
    # PostgreSQL or Redis unreachable this long stops the stack (0: wait for ever).
    dependency_timeout: float = field(
        default_factory=lambda: float(env("GOV_DEPENDENCY_TIMEOUT_SECONDS", "600")))
