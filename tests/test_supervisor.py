"""The supervisor (stack/supervisor.py) on real processes: small HTTP servers stand in for the
services (the real stack under it is tested in tests/e2e/test_supervised_faults.py). A killed
service is restarted with back-off while the others keep running; readiness and metrics show
the reduced capacity and the restarts; a crash loop or a lost dependency stops it with a
message in both languages."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from common.settings import SupervisionSettings
from fakes.server import free_port
from stack.services import Service, started
from stack.supervisor import Dependency, StackStopped, Supervisor, status_server

QUICK = SupervisionSettings(restart_limit=3, restart_window=60, backoff_first=0.2,
                            backoff_max=1, stable_after=60, dependency_timeout=1)


def http_service(name: str, logs: Path) -> Service:
    port = free_port()
    return Service(name=name, argv=[sys.executable, "-m", "http.server", str(port),
                                    "--bind", "127.0.0.1"],
                   health_url=f"http://127.0.0.1:{port}/", log_path=logs / f"{name}.log")


@contextmanager
def running(tmp_path: Path, *names: str) -> Iterator[list[Service]]:
    services = [http_service(name, tmp_path) for name in names]
    with started(services, dict(os.environ), timeout=30):
        yield services


def step_until(supervisor: Supervisor, check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, supervisor.status()
        supervisor.step()
        time.sleep(0.1)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def by_name(supervisor: Supervisor, name: str) -> dict:
    return next(s for s in supervisor.status()["services"] if s["name"] == name)


def test_a_killed_service_comes_back_while_the_others_keep_running(tmp_path, capsys):
    with running(tmp_path, "rasa server 1", "rasa server 2", "action server") as services:
        first, second, actions = services
        supervisor = Supervisor(services, "run-production", QUICK)
        untouched = second.process.pid, actions.process.pid
        with status_server(supervisor, "127.0.0.1", free_port()) as url:
            assert get(url + "/readyz")[0] == 200
            os.kill(first.process.pid, signal.SIGKILL)
            step_until(supervisor, lambda: by_name(supervisor, "rasa server 1")["state"]
                       != "ready")
            status, body = get(url + "/readyz")
            report = json.loads(body)
            assert status == 200 and report["ready"]  # another instance serves meanwhile
            assert not report["full_capacity"]
            assert report["capacity"]["rasa server"] == {"ready": 1, "instances": 2}
            step_until(supervisor, lambda: by_name(supervisor, "rasa server 1")["state"]
                       == "ready")
            assert get(first.health_url)[0] == 200
            assert (second.process.pid, actions.process.pid) == untouched
            metrics = get(url + "/metrics")[1]
            assert 'gov_service_restarts_total{service="rasa server 1"} 1' in metrics
            assert 'gov_service_restarts_total{service="rasa server 2"} 0' in metrics
            assert 'gov_instances_ready{kind="rasa server"} 2' in metrics
            assert json.loads(get(url + "/readyz")[1])["full_capacity"]
    lines = [line for line in capsys.readouterr().out.splitlines() if "rasa server 1" in line]
    assert len(lines) == 2, lines  # one line when it died, one when it was back
    assert "killed by SIGKILL; restarting in 0.2 s" in lines[0]
    assert "back in service after" in lines[1]


def test_a_sole_service_killed_is_down_in_readiness_until_back(tmp_path):
    with running(tmp_path, "action server") as services:
        supervisor = Supervisor(services, "run", QUICK)
        os.kill(services[0].process.pid, signal.SIGKILL)
        step_until(supervisor, lambda: not supervisor.status()["ready"])
        step_until(supervisor, lambda: supervisor.status()["ready"])
        assert by_name(supervisor, "action server")["restarts"] == 1


def test_a_crash_loop_stops_the_stack_with_a_bilingual_message(tmp_path, capsys):
    with running(tmp_path, "rasa server 1", "web chat") as services:
        broken = services[0]
        supervisor = Supervisor(services, "run-production", QUICK,
                                restart_command="make run-production")
        # e.g. a bad setting deployed: every restart exits at once
        broken.argv = [sys.executable, "-c", "import sys; sys.exit(3)"]
        os.kill(broken.process.pid, signal.SIGKILL)
        with pytest.raises(StackStopped) as stopped:
            step_until(supervisor, lambda: False, seconds=30)
    message = str(stopped.value)
    assert "rasa server 1 died 4 times within 1 min" in message
    assert "在 1 分钟内崩溃 4 次" in message
    assert str(broken.log_path) in message and "make run-production" in message
    out = capsys.readouterr().out
    assert "exit code 3; restarting in 0.8 s" in out and "a crash loop; stopping" in out


def test_a_lost_dependency_holds_restarts_then_stops_the_stack(tmp_path):
    gone = Dependency("postgresql", "127.0.0.1", free_port())  # nothing listens there
    with running(tmp_path, "rasa server 1") as services:
        supervisor = Supervisor(services, "run-production", QUICK, [gone])
        supervisor.dependency_check_interval = 0
        supervisor.step()
        assert not supervisor.status()["ready"]
        assert supervisor.status()["dependencies"] == {"postgresql": False}
        os.kill(services[0].process.pid, signal.SIGKILL)
        with pytest.raises(StackStopped) as stopped:
            step_until(supervisor, lambda: False, seconds=10)
        assert by_name(supervisor, "rasa server 1")["restarts"] == 0  # waited for it
    message = str(stopped.value)
    assert f"postgresql at 127.0.0.1:{gone.port} has been unreachable" in message
    assert "已" in message and "无法连接" in message and "systemctl start postgresql" in message
