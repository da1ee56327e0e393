"""`python -m stack setup|train|run|test` — the commands behind the README's `make` targets."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager

from common.settings import PROJECT_ROOT, Settings, SupervisionSettings
from stack.data import ensure_data
from stack.environments import ensure_all, ensure_test_browser, ensure_test_haproxy, relock
from stack.services import ServiceError, running_stack
from stack.supervisor import Dependency, Supervisor, status_server
from stack.training import ensure_model


def setup(settings: Settings) -> None:
    ensure_all(settings)
    ensure_data(settings)
    ensure_model(settings)


def run(settings: Settings) -> None:
    setup(settings)
    model = ensure_model(settings)
    print(f"[run] starting with {model.name} ...", flush=True)
    serve("run", settings, running_stack(settings, model),
          f"web chat on {settings.web_url}, voice page on {settings.web_url}/voice, staff "
          f"workspace on {settings.staff_url}  (Rasa {settings.rasa_url}, actions "
          f"{settings.action_url}, speech {settings.speech_url}); logs in {settings.logs_dir}")


def serve(label: str, settings: Settings, stack: AbstractContextManager, ready: str,
          dependencies: Sequence[Dependency] = ()) -> None:
    """Run a started stack until Ctrl-C or SIGTERM, restarting services that die
    (stack/supervisor.py); a crash loop or a lost dependency stops it with a message."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with stack as services:
            supervisor = Supervisor(services, label, SupervisionSettings(), dependencies,
                                    settings.ready_timeout, restart_command=f"make {label}")
            with status_server(supervisor, settings.host, settings.supervisor_port) as status:
                print(f"[{label}] ready: {ready}; readiness and metrics on {status}/readyz, "
                      f"{status}/metrics. Ctrl-C stops.", flush=True)
                supervisor.run()
    except ServiceError as error:
        raise SystemExit(f"[{label}] could not start: {error}. Fix the cause and run "
                         f"`make {label}` again.\n[{label}] 启动失败：{error}。"
                         f"请排除原因后重新运行 `make {label}`。") from error
    except KeyboardInterrupt:
        print(f"\n[{label}] stopping ...", flush=True)


def run_production(settings: Settings) -> None:
    """Several instances behind balancers, PostgreSQL + Redis (README "Production mode")."""
    from stack.production import ProductionSettings, prepare, running_production_stack

    ensure_all(settings)
    production = ProductionSettings()
    prepare(settings, production)
    model = ensure_model(settings)
    print(f"[run-production] starting {production.rasa_instances} Rasa and "
          f"{production.action_instances} action-server instances ...", flush=True)
    serve("run-production", settings, running_production_stack(settings, production, model),
          f"REST, webhooks and Socket.IO on {settings.rasa_url}, web chat on {settings.web_url} "
          f"(voice page: /voice); "
          f"logs in {settings.logs_dir}", production.dependencies())


def test(settings: Settings, pytest_args: list[str]) -> int:
    setup(settings)
    ensure_test_browser()
    ensure_test_haproxy()
    env = settings.process_env()
    steps = [
        [str(settings.app_venv / "bin" / "ruff"), "check", "."],
        [str(settings.rasa_venv / "bin" / "python"), "-m", "pytest", "tests/rasa", *pytest_args],
        [str(settings.app_venv / "bin" / "python"), "-m", "pytest", "tests",
         "--ignore=tests/rasa", *pytest_args],
    ]
    failed = 0
    for argv in steps:
        print(f"[test] {' '.join(argv[-3:])}", flush=True)
        failed |= subprocess.run(argv, cwd=PROJECT_ROOT, env=env).returncode != 0
    return 1 if failed else 0


def bench(settings: Settings, name: str) -> int:
    """Run a benchmark in its environment, with the same state folder and caches as the stack."""
    setup(settings)
    if name == "bench-nlu":
        argv = [str(settings.rasa_venv / "bin" / "python"), "bench/nlu_eval.py",
                "--model", str(ensure_model(settings))]
    elif name == "bench-kb":
        argv = [str(settings.app_venv / "bin" / "python"), "bench/kb_eval.py"]
    elif name == "bench-kb-real":
        argv = [str(settings.app_venv / "bin" / "python"), "bench/kb_real_eval.py"]
    elif name == "bench-routing":
        argv = [str(settings.app_venv / "bin" / "python"), "bench/routing_eval.py"]
    elif name == "bench-real":
        # Real messages from ../shared/data/real (skipped when absent); sections in the script.
        argv = [str(settings.app_venv / "bin" / "python"), "bench/real_eval.py"]
    elif name == "bench-voice":
        argv = [str(settings.app_venv / "bin" / "python"), "bench/voice.py"]
    elif name == "bench-real-replies":
        argv = [str(settings.app_venv / "bin" / "python"), "bench/real_replies.py"]
    elif name == "bench-faults":
        # `python -m stack run-production` under load, an instance killed every 30 s
        # (bench/faults.py; README "Supervision and faults").
        argv = [str(settings.app_venv / "bin" / "python"), "bench/faults.py"]
    elif name in ("bench-stack", "bench-production", "bench-stock"):
        # 100 citizens pausing ~3 s between messages, then a no-pause saturation phase
        # (bench/stack_bench.py; README "Start-up, latency, memory").
        argv = [str(settings.app_venv / "bin" / "python"), "bench/stack_bench.py"]
        argv += {"bench-production": ["--production"], "bench-stock": ["--stock"]}.get(name, [])
    else:
        raise ValueError(name)
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=settings.process_env()).returncode


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    commands = ["setup", "train", "run", "run-production", "test", "lock", "bench-nlu",
                "bench-kb", "bench-kb-real", "bench-routing", "bench-real", "bench-stack",
                "bench-production", "bench-stock", "bench-voice", "bench-real-replies",
                "bench-faults"]
    parser.add_argument("command", choices=commands)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments for `test`")
    args = parser.parse_args()
    settings = Settings()
    if args.command == "setup":
        setup(settings)
    elif args.command == "train":
        print(ensure_model(settings))
    elif args.command == "lock":
        relock(settings)
    elif args.command == "run":
        run(settings)
    elif args.command == "run-production":
        run_production(settings)
    elif args.command == "test":
        sys.exit(test(settings, args.pytest_args))
    else:
        sys.exit(bench(settings, args.command))


if __name__ == "__main__":
    main()
