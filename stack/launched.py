"""The operator's command — `python -m stack run` or `run-production`, supervisor and all — as
a child process with its own state folder, free ports and (production) its own PostgreSQL
database and Redis prefix, so the fault tests and `make bench-faults` exercise what operators
run, beside a `make run` that may already be going."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from common.settings import PROJECT_ROOT, Settings


class Launched:
    def __init__(self, mode: str, state_dir: Path, extra_env: dict[str, str] | None = None
                 ) -> None:
        from stack.production import ProductionSettings

        self.mode = mode
        self.settings = Settings().isolated(state_dir)
        name = f"gov_faults_{uuid.uuid4().hex[:8]}"
        self.production = ProductionSettings(pg_db=name, redis_prefix=name.replace("_", "")
                                             ).isolated()
        s, p = self.settings, self.production
        self.env = {
            **os.environ,
            "GOV_STATE_DIR": str(s.state_dir), "GOV_TRACKER_DB": str(s.tracker_db),
            "GOV_RASA_PORT": str(s.rasa_port), "GOV_ACTION_PORT": str(s.action_port),
            "GOV_WEB_PORT": str(s.web_port), "GOV_STAFF_PORT": str(s.staff_port),
            "GOV_SPEECH_PORT": str(s.speech_port), "GOV_SUPERVISOR_PORT": str(s.supervisor_port),
            "GOV_RASA_BASE_PORT": str(p.rasa_base_port),
            "GOV_ACTION_BASE_PORT": str(p.action_base_port),
            "GOV_TRACKER_PG_DB": p.pg_db, "GOV_REDIS_PREFIX": p.redis_prefix,
            **(extra_env or {}),
        }
        self.env.pop("GOV_DATABASE_URL", None)  # each mode's own default
        self.output = s.state_dir / "launcher.log"
        self.process: subprocess.Popen | None = None

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL database production mode creates (drop it afterwards)."""
        return self.production.database_url if self.mode == "run-production" else None

    def start(self, timeout: float = 900) -> None:
        """Start it and wait until every service is ready (the supervisor says so)."""
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stack", self.mode], cwd=PROJECT_ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not (self.status() or {}).get("full_capacity"):
            if self.process.poll() is not None:
                raise RuntimeError(f"`python -m stack {self.mode}` exited with "
                                   f"{self.process.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f} s: {self.tail()}")
            time.sleep(1)

    def status(self) -> dict | None:
        """The supervisor's /readyz report, or None while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.settings.supervisor_url}/readyz",
                                        timeout=5) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def service(self, name: str) -> dict:
        return next(s for s in (self.status() or {}).get("services", []) if s["name"] == name)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        text = self.output.read_text(encoding="utf-8", errors="replace") \
            if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self, name: str) -> tuple[int, float]:
        """`kill -9` the named service's main process; its pid and when."""
        pid = self.service(name)["pid"]
        os.kill(pid, signal.SIGKILL)
        return pid, time.monotonic()

    def back(self, name: str, old_pid: int, killed_at: float, timeout: float) -> float | None:
        """Seconds from `killed_at` until the named service, restarted (a new pid), is ready
        again; None if not within `timeout` of it."""
        while time.monotonic() - killed_at < timeout:
            service = self.service(name)
            if service["state"] == "ready" and service["pid"] != old_pid:
                return time.monotonic() - killed_at
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        """Ctrl-C's way (SIGTERM): the launcher stops every service it started."""
        if self.process is None or self.process.poll() is not None:
            return
        pids = [s["pid"] for s in (self.status() or {}).get("services", []) if s["pid"]]
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            for pid in pids:  # what it could not stop itself
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
