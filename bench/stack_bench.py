"""Start-up time, reply latency and memory of the real stack (README: `make bench-stack`).

Starts the action server, Rasa server, web page and staff API on free ports as `make run` does,
then reports: seconds until every service answers, REST latency p50/p95/p99 for sequential
turns and for concurrent conversations, throughput, and resident memory per service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.data import ensure_data
from stack.environments import run
from stack.production import ProductionSettings, build_production_services, prepare
from stack.services import Service, build_services, wait_until_ready
from stack.settings import Settings
from stack.training import ensure_model
from storage.seed import demo_applicants


def conversation_script() -> list[str]:
    """One citizen's session in both languages: greetings, help, two verified status checks
    (demo applications), policy questions, off-topic, and two requests that become tickets."""
    first, second = demo_applicants(2)
    return [
        "你好", "hello there", "請問你可以幫我做什麼", "what can you do",
        "我想查一下申请进度", first.number, first.phone[-4:],
        f"what's the status of {second.number}", second.id_card[-4:],
        "谢谢", "thank you so much", "量子色动力学", "tell me a joke",
        "公积金怎么提取", "How do I register a marriage?", "結婚登記要帶什麼", "办理游艇驾驶证",
        "小区门口路灯坏了一个月", "2468",
        "my employer hasn't paid my wages for three months", "1357",
    ]


TURNS = conversation_script()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rss_mb(service: Service) -> float:
    """Resident memory of the service's process and its children, in MB."""
    import subprocess

    pids = subprocess.run(
        ["pgrep", "-g", str(service.process.pid)], capture_output=True, text=True
    ).stdout.split()
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kb / 1024


def say(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


async def concurrent(url: str, users: int, rounds: int) -> tuple[list[float], float]:
    """`users` citizens talking at once, each waiting for the answer before the next message.
    One thread each: the default executor (CPU count + 4 threads) would cap the concurrency."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=users))
    latencies: list[float] = []

    async def citizen() -> None:
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        for _ in range(rounds):
            for text in TURNS:
                latencies.append(await loop.run_in_executor(None, say, url, sender, text))

    started = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(users)))
    return latencies, time.perf_counter() - started


def report(label: str, latencies: list[float], seconds: float | None = None) -> None:
    line = (f"{label:<28} n={len(latencies):<5} p50={percentile(latencies, 50) * 1000:7.1f} ms"
            f"  p95={percentile(latencies, 95) * 1000:7.1f} ms"
            f"  p99={percentile(latencies, 99) * 1000:7.1f} ms")
    if seconds:
        line += f"  throughput={len(latencies) / seconds:6.1f} msg/s"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", type=int, default=120, help="sequential turns")
    parser.add_argument("--users", type=int, default=20, help="concurrent conversations")
    parser.add_argument("--rounds", type=int, default=2, help="script repeats per user")
    parser.add_argument("--production", action="store_true",
                        help="production mode: instances behind balancers, PostgreSQL + Redis "
                             "(a fresh database, dropped afterwards)")
    args = parser.parse_args()

    # A benchmark floods by design: lift the per-sender limit that protects the REST channel.
    os.environ["GOV_SENDER_BURST"] = os.environ["GOV_SENDER_MESSAGES_PER_MINUTE"] = "1000000"
    state = Path(tempfile.mkdtemp(prefix="gov-bench-"))
    settings = Settings().isolated(state)
    token = secrets.token_urlsafe(24)
    if args.production:
        production = ProductionSettings(pg_db=f"gov_bench_{uuid.uuid4().hex[:8]}",
                                        redis_prefix=f"bench{uuid.uuid4().hex[:6]}").isolated()
        prepare(settings, production)
        model = ensure_model(settings)
        services = build_production_services(settings, production, model, token)
        env = production.environment(settings)
    else:
        ensure_data(settings)
        model = ensure_model(settings)
        services = build_services(settings, model, api_token=token)
        env = settings.process_env()
    started = time.perf_counter()
    try:
        for service in services:
            service.start(env)
        wait_until_ready(services, settings.ready_timeout)
        print(f"time to ready (all services): {time.perf_counter() - started:.1f} s", flush=True)
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        first = say(url, "bench-first", "你好")
        print(f"first message after ready:    {first * 1000:.0f} ms")
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        sequential = [say(url, sender, TURNS[i % len(TURNS)]) for i in range(args.sequential)]
        report("sequential (1 citizen)", sequential)
        latencies, seconds = asyncio.run(concurrent(url, args.users, args.rounds))
        report(f"concurrent ({args.users} citizens)", latencies, seconds)
        for service in services:
            print(f"resident memory {service.name:<15} {rss_mb(service):7.0f} MB")
        print(f"resident memory total          {sum(rss_mb(s) for s in services):7.0f} MB")
    finally:
        for service in services:
            service.stop()
        if args.production:
            run([str(settings.app_venv / "bin" / "python"), "-m", "storage.provision",
                 "--drop", production.database_url], env=env)


if __name__ == "__main__":
    main()
