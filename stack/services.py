"""Starting, health-checking and stopping the assistant's processes.

Used by `python -m stack run` and by the test fixtures, so the tests run exactly what a citizen
talks to. Each service logs to its own file under the state folder.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from common.settings import PROJECT_ROOT, Settings
from stack.credentials import write_credentials


class ServiceError(RuntimeError):
    """A service exited or did not become ready in time; the message names its log file."""


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    health_url: str
    log_path: Path
    process: subprocess.Popen | None = None
    env: dict[str, str] | None = None  # what it was started with, to restart it the same way

    def start(self, env: dict[str, str]) -> None:
        self.env = env
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            list(self.argv),
            cwd=PROJECT_ROOT,
            env={**env, "GOV_SERVICE_NAME": self.name.replace(" ", "-")},  # in its log lines
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def reap(self) -> None:
        """After the service's main process died: kill whatever it left behind in its process
        group (workers, children), so that a restart finds its port free."""
        if self.process is None or self.process.poll() is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left after `grace` s."""
        if self.process is None or self.process.poll() is not None:
            self.reap()
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait()


def wait_until_ready(services: Sequence[Service], timeout: float) -> float:
    """Block until every service answers its health URL; returns the seconds it took."""
    started = time.monotonic()
    pending = list(services)
    while pending:
        for service in list(pending):
            code = service.exit_code()
            if code is not None:
                raise ServiceError(
                    f"{service.name} exited with code {code}; see {service.log_path}"
                )
            if service.is_ready():
                pending.remove(service)
        if pending and time.monotonic() - started > timeout:
            names = ", ".join(s.name for s in pending)
            logs = ", ".join(str(s.log_path) for s in pending)
            raise ServiceError(f"not ready after {timeout:.0f} s: {names}; see {logs}")
        if pending:
            time.sleep(0.5)
    return time.monotonic() - started


def build_services(settings: Settings, model_path: Path) -> list[Service]:
    """The action server, the Rasa server, the web chat page and the staff API, configured
    from `settings`. Rasa's HTTP API is on (with the token in `secret_environment`) so staff can
    resume conversations. No command line holds a secret: anyone on the machine can read those
    in /proc."""
    rasa_argv = [
        str(settings.rasa_venv / "bin" / "python"), "-m", "services.rasa_server",
        "run",
        "--model", str(model_path),
        "--endpoints", "endpoints.yml",
        "--credentials", str(write_credentials(settings)),
        "--interface", settings.host,
        "--port", str(settings.rasa_port),
        "--cors", *settings.allowed_origins,
        "--log-file", str(settings.logs_dir / "rasa-events.log"),
        "--enable-api",  # with GOV_RASA_API_TOKEN from the environment (services/rasa_server.py)
    ]
    app_python = str(settings.app_venv / "bin" / "python")
    return [
        Service(
            name="action server",
            argv=[app_python, "-m", "services.action_server", "--actions", "actions",
                  "--port", str(settings.action_port)],
            health_url=f"{settings.action_url}/health",
            log_path=settings.logs_dir / "actions.log",
        ),
        _web_service(settings, "web chat", "webchat", settings.web_port,
                     ["--frame-ancestors", settings.frame_ancestors, *readiness_args(settings)]),
        _web_service(settings, "staff api", "staff", settings.staff_port),
        speech_service(settings),
        Service(
            name="rasa server",
            argv=rasa_argv,
            health_url=f"{settings.rasa_url}/",
            log_path=settings.logs_dir / "rasa.log",
        ),
    ]


def speech_service(settings: Settings) -> Service:
    """Speech recognition and synthesis for the voice channel, on the Rasa environment's
    Python (the Mandarin voice needs its TensorFlow); one per machine, whatever the mode."""
    return Service(
        name="speech service",
        argv=[str(settings.rasa_venv / "bin" / "python"), "-m", "speech",
              "--host", settings.host, "--port", str(settings.speech_port)],
        health_url=f"{settings.speech_url}/healthz",
        log_path=settings.logs_dir / "speech.log",
    )


def _web_service(settings: Settings, name: str, module: str, port: int,
                 extra: Sequence[str] = ()) -> Service:
    """One of the project's aiohttp apps: `python -m <module>`, health at /healthz."""
    return Service(
        name=name,
        argv=[str(settings.app_venv / "bin" / "python"), "-m", module, "--host", settings.host,
              "--port", str(port), "--rasa-url", settings.rasa_url, *extra],
        health_url=f"http://{settings.host}:{port}/healthz",
        log_path=settings.logs_dir / f"{module}.log",
    )


def readiness_args(settings: Settings) -> list[str]:
    """What the web chat page's `/readyz` asks besides Rasa (webchat/readiness.py)."""
    return ["--action-url", settings.action_url, "--speech-url", settings.speech_url]


def secret_environment(api_token: str | None = None) -> dict[str, str]:
    """Secrets for the started processes, passed in their environment (readable only by the
    same user, unlike a command line): Rasa's HTTP API token, random per start unless given.
    (The action token is in every `process_env`: endpoints.yml needs it wherever Rasa runs.)"""
    return {"GOV_RASA_API_TOKEN": api_token or secrets.token_urlsafe(24)}


@contextmanager
def running_stack(
    settings: Settings, model_path: Path, api_token: str | None = None
) -> Iterator[list[Service]]:
    """Start every service, wait for all to be ready, yield them, and always stop them."""
    services = build_services(settings, model_path)
    env = {**settings.process_env(), **secret_environment(api_token)}
    with started(services, env, settings.ready_timeout):
        yield services


@contextmanager
def started(services: list[Service], env: dict[str, str], timeout: float) -> Iterator[None]:
    """Start `services`, wait until all are ready, and always stop them afterwards."""
    with ExitStack() as cleanup:
        for service in services:
            service.start(env)
            cleanup.callback(service.stop)
        wait_until_ready(services, timeout)
        yield
