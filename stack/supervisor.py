"""Keeping the stack serving when one of its processes dies (`make run`, `make run-production`).

A service that exits is restarted after a back-off (1 s, 2 s, 4 s … up to
GOV_RESTART_BACKOFF_MAX_SECONDS) while the others keep serving; in production mode the
balancers send it nothing until it answers its health check again (services/balancer.py). Only
two things stop the whole stack, each with a bilingual message saying what to do:

- a crash loop: one service dying more than GOV_RESTART_LIMIT times within
  GOV_RESTART_WINDOW_SECONDS (restarting again would not help; its log says why);
- a shared dependency (PostgreSQL, Redis) unreachable for GOV_DEPENDENCY_TIMEOUT_SECONDS.
  Meanwhile the instances apologise to citizens, and restarts wait for it to come back.

Every event is one line on standard output. `GET /readyz` and `GET /metrics` on
GOV_SUPERVISOR_PORT report capacity (ready instances of each kind), every service's state and
restart count, and the dependencies. Standard library only: `python -m stack` runs on the
machine's Python, outside both environments.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common.settings import SupervisionSettings
from stack.services import Service

READY, STARTING, WAITING = "ready", "starting", "waiting"
DEPENDENCY_CHECK_SECONDS = 5.0


class StackStopped(SystemExit):
    """The supervisor gave up: the message says why and what to do, in both languages."""


@dataclass(frozen=True)
class Dependency:
    """A server every instance shares (PostgreSQL, Redis), checked by opening a connection."""

    name: str
    host: str
    port: int

    def reachable(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2):
                return True
        except OSError:
            return False

    def __str__(self) -> str:
        return f"{self.name} at {self.host}:{self.port}"


@dataclass
class Watch:
    """One service as the supervisor sees it."""

    service: Service
    state: str = READY
    deaths: deque[float] = field(default_factory=deque)  # within the crash-loop window
    restarts: int = 0
    failures_in_a_row: int = 0
    down_since: float | None = None
    restart_at: float = 0.0
    started_at: float = 0.0
    ready_since: float = 0.0

    @property
    def kind(self) -> str:
        """"rasa server 2" → "rasa server": instances of one kind share the load."""
        return self.service.name.rstrip(" 0123456789")


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    def __init__(self, services: Sequence[Service], label: str,
                 settings: SupervisionSettings | None = None,
                 dependencies: Sequence[Dependency] = (), ready_timeout: float = 300.0,
                 restart_command: str = "make run",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.settings = label, settings or SupervisionSettings()
        self.dependencies, self.ready_timeout = list(dependencies), ready_timeout
        self.restart_command, self.clock = restart_command, clock
        now = clock()
        self.watches = [Watch(service, ready_since=now) for service in services]
        self.unreachable: dict[str, float] = {}  # dependency name → since when
        self._checked_dependencies = float("-inf")
        self.dependency_check_interval = DEPENDENCY_CHECK_SECONDS
        self._lock = threading.Lock()

    # -- the loop --------------------------------------------------------------------------

    def run(self, interval: float = 0.5) -> None:
        """Supervise until a crash loop or a lost dependency (StackStopped)."""
        while True:
            self.step()
            time.sleep(interval)

    def step(self) -> None:
        with self._lock:
            now = self.clock()
            self._check_dependencies(now)
            for watch in self.watches:
                self._step(watch, now)

    def _step(self, watch: Watch, now: float) -> None:
        service = watch.service
        if watch.state in (READY, STARTING) and service.exit_code() is not None:
            self._died(watch, now, describe_exit(service.exit_code()))
        elif watch.state == STARTING:
            if service.is_ready():
                watch.state, watch.ready_since = READY, now
                self.log(f"{service.name} back in service after "
                         f"{now - (watch.down_since or now):.1f} s (pid {service.process.pid}, "
                         f"restart {watch.restarts})")
                watch.down_since = None
            elif now - watch.started_at > self.ready_timeout:
                service.stop(grace=5)
                self._died(watch, now, f"not ready after {self.ready_timeout:.0f} s")
        elif watch.state == WAITING and now >= watch.restart_at and not self.unreachable:
            service.reap()
            service.start(service.env or {})
            watch.state, watch.started_at = STARTING, now
            watch.restarts += 1
        if watch.state == READY and now - watch.ready_since > self.settings.stable_after:
            watch.failures_in_a_row = 0

    def _died(self, watch: Watch, now: float, how: str) -> None:
        service, window = watch.service, self.settings.restart_window
        watch.deaths.append(now)
        while watch.deaths and now - watch.deaths[0] > window:
            watch.deaths.popleft()
        if len(watch.deaths) > self.settings.restart_limit:
            self.log(f"{service.name} {how}: {len(watch.deaths)} times within "
                     f"{window / 60:.0f} min, a crash loop; stopping the stack")
            raise StackStopped(self.crash_loop_message(service, len(watch.deaths)))
        delay = min(self.settings.backoff_first * 2 ** watch.failures_in_a_row,
                    self.settings.backoff_max)
        watch.failures_in_a_row += 1
        watch.state, watch.restart_at = WAITING, now + delay
        watch.down_since = watch.down_since or now
        waiting = f", once {', '.join(self.unreachable)} is back" if self.unreachable else ""
        self.log(f"{service.name} {how}; restarting in {delay:g} s{waiting} "
                 f"(death {len(watch.deaths)} within {window / 60:.0f} min, limit "
                 f"{self.settings.restart_limit}; see {service.log_path})")

    def _check_dependencies(self, now: float) -> None:
        if now - self._checked_dependencies < self.dependency_check_interval:
            return
        self._checked_dependencies = now
        for dependency in self.dependencies:
            since = self.unreachable.get(dependency.name)
            if dependency.reachable():
                if since is not None:
                    del self.unreachable[dependency.name]
                    self.log(f"{dependency} reachable again after {now - since:.0f} s")
                continue
            if since is None:
                self.unreachable[dependency.name] = now
                self.log(f"{dependency} unreachable; citizens get an apology meanwhile, and "
                         f"restarts wait for it")
            elif 0 < self.settings.dependency_timeout < now - since:
                self.log(f"{dependency} unreachable for {now - since:.0f} s; stopping the stack")
                raise StackStopped(self.dependency_message(dependency, now - since))

    # -- what it says ----------------------------------------------------------------------

    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        print(f"{stamp} [{self.label}] {message}", flush=True)

    def crash_loop_message(self, service: Service, deaths: int) -> str:
        minutes = f"{self.settings.restart_window / 60:.0f}"
        return (
            f"[{self.label}] stopped: {service.name} died {deaths} times within {minutes} min "
            f"(GOV_RESTART_LIMIT={self.settings.restart_limit}). Read the end of "
            f"{service.log_path} for the cause, fix it, then start again with "
            f"`{self.restart_command}`.\n"
            f"[{self.label}] 已停止：{service.name} 在 {minutes} 分钟内崩溃 {deaths} 次"
            f"（GOV_RESTART_LIMIT={self.settings.restart_limit}）。请查看 {service.log_path} "
            f"末尾找出原因，修复后用 `{self.restart_command}` 重新启动。")

    def dependency_message(self, dependency: Dependency, seconds: float) -> str:
        return (
            f"[{self.label}] stopped: {dependency} has been unreachable for {seconds:.0f} s "
            f"(GOV_DEPENDENCY_TIMEOUT_SECONDS={self.settings.dependency_timeout:.0f}). Start "
            f"{dependency.name} (e.g. `systemctl start {dependency.name}`) or correct its "
            f"address in the GOV_ settings, then start again with `{self.restart_command}`.\n"
            f"[{self.label}] 已停止：{dependency} 已 {seconds:.0f} 秒无法连接"
            f"（GOV_DEPENDENCY_TIMEOUT_SECONDS={self.settings.dependency_timeout:.0f}）。"
            f"请启动 {dependency.name}（例如 `systemctl start {dependency.name}`）或在 GOV_ "
            f"设置中改正其地址，然后用 `{self.restart_command}` 重新启动。")

    # -- readiness and metrics -------------------------------------------------------------

    def status(self) -> dict:
        """Capacity per kind of service, each service's state, the dependencies. Ready when
        every kind has at least one instance serving and every dependency is reachable."""
        with self._lock:
            capacity: dict[str, dict[str, int]] = {}
            services = []
            for watch in self.watches:
                kind = capacity.setdefault(watch.kind, {"ready": 0, "instances": 0})
                kind["instances"] += 1
                kind["ready"] += watch.state == READY
                process = watch.service.process
                services.append({"name": watch.service.name, "state": watch.state,
                                 "pid": process.pid if process else None,
                                 "restarts": watch.restarts})
            dependencies = {d.name: d.name not in self.unreachable for d in self.dependencies}
        return {
            "ready": all(k["ready"] for k in capacity.values()) and all(dependencies.values()),
            "full_capacity": all(k["ready"] == k["instances"] for k in capacity.values()),
            "capacity": capacity, "services": services, "dependencies": dependencies,
        }

    def metrics(self) -> str:
        """Prometheus text: gov_service_up, gov_service_restarts_total, gov_instances_ready,
        gov_instances_configured, gov_dependency_up."""
        status = self.status()
        lines = [
            "# HELP gov_service_up 1 while the service runs and has answered its health check",
            "# TYPE gov_service_up gauge",
            *(f'gov_service_up{{service="{s["name"]}"}} {int(s["state"] == READY)}'
              for s in status["services"]),
            "# HELP gov_service_restarts_total Restarts of the service by the supervisor",
            "# TYPE gov_service_restarts_total counter",
            *(f'gov_service_restarts_total{{service="{s["name"]}"}} {s["restarts"]}'
              for s in status["services"]),
            "# HELP gov_instances_ready Instances of each kind serving now",
            "# TYPE gov_instances_ready gauge",
            *(f'gov_instances_ready{{kind="{k}"}} {c["ready"]}'
              for k, c in status["capacity"].items()),
            "# HELP gov_instances_configured Instances of each kind configured",
            "# TYPE gov_instances_configured gauge",
            *(f'gov_instances_configured{{kind="{k}"}} {c["instances"]}'
              for k, c in status["capacity"].items()),
            "# HELP gov_dependency_up 1 while the shared server accepts connections",
            "# TYPE gov_dependency_up gauge",
            *(f'gov_dependency_up{{dependency="{name}"}} {int(up)}'
              for name, up in status["dependencies"].items()),
        ]
        return "\n".join(lines) + "\n"


@contextmanager
def status_server(supervisor: Supervisor, host: str, port: int) -> Iterator[str]:
    """`GET /healthz`, `/readyz` (503 while some kind of service has no instance serving or a
    dependency is unreachable) and `/metrics`, served from a thread; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, supervisor.metrics(), "text/plain; version=0.0.4")
            elif self.path == "/readyz":
                status = supervisor.status()
                self._send(200 if status["ready"] else 503, json.dumps(status),
                           "application/json")
            elif self.path == "/healthz":
                self._send(200, json.dumps({"status": "ok"}), "application/json")
            else:
                self._send(404, json.dumps({"error": "not found"}), "application/json")

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:  # one line per event, not per probe
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="supervisor-status",
                              daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
