"""Start-up time, reply latency, throughput, errors and memory of the real stack
(docs/benchmarks.md "Start-up, latency, memory": `make bench-stack`, `make bench-production`).

Starts the services on free ports as `make run` (or `make run-production`) does, then:

1. time until every service answers, and the first reply;
2. sequential turns from one citizen (latency without contention);
3. **load with think time**: `--users` citizens at once, each going through a realistic
   21-turn session (greetings, help, two verified status checks, policy questions in zh and en,
   off-topic, two requests routed to departments), pausing between messages for an
   exponentially distributed think time of mean `--think` seconds (reading the answer, typing the
   next message), then starting a new conversation; reported: offered rate (users / think: what
   they would send if answers were instant), achieved rate, latency p50/p95/p99, errors;
4. **saturation**: `--saturation-users` citizens with no pauses at all, which measures the
   largest throughput the stack sustains (latency there is queueing: users / throughput);
5. CPU time per message of each service, and resident memory (now and peak) per service.

Errors are HTTP failures, timeouts, empty answers and the "service unavailable" apology.
With `--stock` the same is measured, in the same run, for the stock configuration (`rasa init`'s
pipeline and policies trained on the same data, bench/stock/config.yml; trained once into
models/stock/ and reused), and the ratios are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.settings import PROJECT_ROOT, Settings
from stack.data import ensure_data
from stack.environments import run
from stack.production import ProductionSettings, build_production_services, prepare
from stack.services import Service, build_services, secret_environment, wait_until_ready
from stack.training import ensure_model, ensure_stock_model
from storage.seed import demo_applicants

# Think time: reading a short answer and typing the next message. 3 s is the quick end of
# real chat behaviour (benchmarks: a 4-s cycle per citizen is what ">= 25 messages/s with 100
# concurrent conversations" means); real citizens mostly pause longer, which is less load.
DEFAULT_THINK = 3.0
APPLICANTS = demo_applicants(40)


def conversation_script(rng: random.Random) -> list[str]:
    """One citizen's session in both languages: greetings, help, two verified status checks
    (demo applications), policy questions, off-topic, and two requests that become tickets."""
    first, second = rng.sample(APPLICANTS, 2)
    return [
        "你好", "hello there", "請問你可以幫我做什麼", "what can you do",
        "我想查一下申请进度", first.number, first.phone[-4:],
        f"what's the status of {second.number}", second.id_card[-4:],
        "谢谢", "thank you so much", "量子色动力学", "tell me a joke",
        "公积金怎么提取", "How do I register a marriage?", "結婚登記要帶什麼", "办理游艇驾驶证",
        "小区门口路灯坏了一个月", "2468",
        "my employer hasn't paid my wages for three months", "1357",
    ]


TURNS = len(conversation_script(random.Random(0)))


def apologies() -> set[str]:
    """The "service unavailable" texts (domain.yml), which count as errors."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {variant["text"] for variant in domain["responses"]["utter_service_unavailable"]}


APOLOGIES = apologies()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Phase:
    label: str
    users: int
    think: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    replies_in_window: int = 0
    window: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # service -> CPU seconds in the window

    @property
    def achieved(self) -> float:
        return self.replies_in_window / self.window if self.window else 0.0

    @property
    def offered(self) -> float | None:
        return self.users / self.think if self.think else None

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def line(self) -> str:
        offered = f"offered {self.offered:5.1f} msg/s  " if self.offered else ""
        errors = sum(self.errors.values())
        detail = f" ({', '.join(f'{k} {v}' for k, v in self.errors.items())})" if errors else ""
        return (f"{self.label:<36} {offered}achieved {self.achieved:5.1f} msg/s  "
                f"n={len(self.latencies):<5} p50={self.p(50):7.1f} ms  p95={self.p(95):7.1f} ms"
                f"  p99={self.p(99):7.1f} ms  errors={errors}{detail}")


async def say(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> str | None:
    """Send one message; None if the answer is fine, else what went wrong."""
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            if response.status != 200:
                return f"HTTP {response.status}"
            replies = await response.json(content_type=None)
    except asyncio.TimeoutError:
        return "timeout"
    except aiohttp.ClientError as error:
        return type(error).__name__
    texts = [reply.get("text") or "" for reply in replies or [] if isinstance(reply, dict)]
    if not replies:
        return "no answer"
    if any(text in APOLOGIES for text in texts):
        return "apology"
    return None


def client() -> aiohttp.ClientSession:
    # A new connection per message, as from many separate citizens' devices.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True),
                                 timeout=aiohttp.ClientTimeout(total=60))


async def load(url: str, phase: Phase, duration: float, warmup: float, conversations: int,
               seed: int, processes: dict[str, list[int]]) -> Phase:
    """`phase.users` citizens, each pausing `phase.think` s on average between messages,
    starting new conversations until `duration` s after `warmup` (or after `conversations`
    conversations each). Measured over the window in which every citizen is still talking:
    throughput (answers received in it), latency of the messages sent in it, CPU per service;
    errors are counted over the whole phase."""
    started = time.perf_counter()
    window_start = started + warmup
    deadline = window_start + duration if duration else float("inf")
    window_end: list[float] = []  # set once: the deadline, or the first citizen finishing
    sent_and_latency: list[tuple[float, float]] = []
    cpu_at: dict[str, dict[str, float]] = {}

    def close_window(now: float) -> None:
        if not window_end:
            window_end.append(now)
            cpu_at["end"] = {name: cpu_seconds(pids) for name, pids in processes.items()}
            cpu_at["end"]["machine"] = machine_busy_seconds()

    async def citizen(number: int, session: aiohttp.ClientSession) -> None:
        rng = random.Random(seed * 100_003 + number)
        # Arrivals spread over the first think time (or half a second), not all at once.
        await asyncio.sleep(rng.uniform(0, phase.think or 0.5))
        done = 0
        while time.perf_counter() < deadline and (not conversations or done < conversations):
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for text in conversation_script(rng):
                if time.perf_counter() >= deadline:
                    break
                sent = time.perf_counter()
                problem = await say(session, url, sender, text)
                answered = time.perf_counter()
                if problem:
                    phase.errors[problem] += 1
                sent_and_latency.append((sent, answered - sent))
                if window_start <= answered and not window_end:
                    phase.replies_in_window += 1
                if phase.think:
                    await asyncio.sleep(rng.expovariate(1 / phase.think))
            done += 1
        close_window(min(time.perf_counter(), deadline))

    async def clock() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu_at["start"] = {name: cpu_seconds(pids) for name, pids in processes.items()}
        cpu_at["start"]["machine"] = machine_busy_seconds()
        while not window_end and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        close_window(min(time.perf_counter(), deadline))

    async with client() as session:
        timer = asyncio.create_task(clock())
        await asyncio.gather(*(citizen(i, session) for i in range(phase.users)))
        await timer
    end = window_end[0]
    phase.window = max(0.0, end - window_start)
    phase.latencies = [latency for sent, latency in sent_and_latency
                       if window_start <= sent < end]
    phase.cpu = {name: cpu_at["end"][name] - cpu_at.get("start", {}).get(name, 0.0)
                 for name in [*processes, "machine"]}
    return phase


def group_pids(service: Service) -> list[int]:
    """The service's process and its children (one process group per service)."""
    found = subprocess.run(["pgrep", "-g", str(service.process.pid)], capture_output=True,
                           text=True).stdout.split()
    return [int(pid) for pid in found]


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores, /proc/stat), in seconds."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM summed over the processes), MB."""
    now = peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    now += int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    peak += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return now / 1024, peak / 1024


@dataclass
class Result:
    label: str
    ready: float = 0.0
    first: float = 0.0
    sequential: list[float] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def memory_total(self) -> float:
        return sum(now for now, _ in self.memory.values())


def measure(label: str, args: argparse.Namespace, stock: bool) -> Result:
    """Start a fresh stack (own state folder, own database), measure it, stop it."""
    print(f"== {label}", flush=True)
    state = Path(tempfile.mkdtemp(prefix="gov-bench-"))
    settings = Settings().isolated(state)
    token = secrets.token_urlsafe(24)
    production = None
    if args.production:
        production = ProductionSettings(pg_db=f"gov_bench_{uuid.uuid4().hex[:8]}",
                                        redis_prefix=f"bench{uuid.uuid4().hex[:6]}").isolated()
        prepare(settings, production)
        env = production.environment(settings)
    else:
        ensure_data(settings)
        env = settings.process_env()
    env.update(secret_environment(token))
    model = ensure_stock_model(settings) if stock else ensure_model(settings)
    services = (build_production_services(settings, production, model) if production
                else build_services(settings, model))
    result = Result(label)
    started = time.perf_counter()
    try:
        for service in services:
            service.start(env)
        wait_until_ready(services, settings.ready_timeout)
        result.ready = time.perf_counter() - started
        print(f"time to ready (all services): {result.ready:.1f} s   [{model.name}]",
              flush=True)
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        asyncio.run(sequential(url, args, result))
        processes = {service.name: group_pids(service) for service in services}
        processes["load generator"] = [os.getpid()]
        phases = [Phase(f"think {args.think:g} s, {args.users} citizens", args.users, args.think)]
        if args.saturation_users:
            phases.append(Phase(f"saturation, {args.saturation_users} citizens, no pauses",
                                args.saturation_users, 0.0))
        for phase in phases:
            warmup = args.warmup if args.warmup is not None else max(5.0, 2 * phase.think)
            asyncio.run(load(url, phase, args.duration, warmup, args.rounds, args.seed,
                             processes))
            print(phase.line(), flush=True)
            result.phases.append(phase)
        for phase in result.phases:
            served = phase.replies_in_window or 1
            busy = ", ".join(f"{name} {seconds / served * 1000:.1f}"
                             for name, seconds in phase.cpu.items()
                             if seconds >= 0.05 and name != "machine")
            machine = phase.cpu["machine"] / phase.window / (os.cpu_count() or 1) * 100 \
                if phase.window else 0.0
            print(f"CPU ms per message ({phase.label}): {busy}; whole machine busy "
                  f"{machine:.0f}% ({phase.cpu['machine'] / served * 1000:.1f} ms per message, "
                  f"everything included)")
        for service in services:
            result.memory[service.name] = memory_mb(group_pids(service))
        for name, (now, peak) in result.memory.items():
            print(f"resident memory {name:<17} {now:7.0f} MB   (peak {peak:5.0f} MB)")
        print(f"resident memory total            {result.memory_total:7.0f} MB", flush=True)
    finally:
        for service in services:
            service.stop()
        if production:
            run([str(settings.app_venv / "bin" / "python"), "-m", "storage.provision",
                 "--drop"], env=env)  # GOV_DATABASE_URL: no password on a command line
    return result


async def sequential(url: str, args: argparse.Namespace, result: Result) -> None:
    async with client() as session:
        started = time.perf_counter()
        problem = await say(session, url, "bench-first", "你好")
        result.first = time.perf_counter() - started
        print(f"first message after ready:    {result.first * 1000:.0f} ms"
              + (f"  ({problem})" if problem else ""))
        sender, script = f"bench-{uuid.uuid4().hex[:10]}", []
        rng = random.Random(args.seed)
        errors: Counter = Counter()
        for _ in range(args.sequential):
            if not script:
                script = conversation_script(rng)
            started = time.perf_counter()
            problem = await say(session, url, sender, script.pop(0))
            result.sequential.append(time.perf_counter() - started)
            if problem:
                errors[problem] += 1
    values = result.sequential
    if values:
        print(f"{'sequential (1 citizen)':<36} n={len(values):<5} "
              f"p50={percentile(values, 50) * 1000:7.1f} ms  "
              f"p95={percentile(values, 95) * 1000:7.1f} ms  "
              f"p99={percentile(values, 99) * 1000:7.1f} ms  errors={sum(errors.values())}",
              flush=True)


def compare(ours: Result, stock: Result) -> None:
    """Ratios this project / stock configuration, measured in the same run."""
    print("== this configuration vs stock (`rasa init` pipeline and policies, same data)")

    def row(name: str, a: float, b: float, unit: str, better_high: bool) -> None:
        ratio = (a / b if better_high else b / a) if a and b else float("nan")
        verdict = "better" if ratio >= 1 else "worse"
        print(f"{name:<52} {a:8.1f} {unit:<6} vs {b:8.1f} {unit:<6} {ratio:5.2f}x {verdict}")

    row("time to ready", ours.ready, stock.ready, "s", False)
    for mine, theirs in zip(ours.phases, stock.phases, strict=True):
        row(f"throughput, {mine.label}", mine.achieved, theirs.achieved, "msg/s", True)
        row(f"p95, {mine.label}", mine.p(95), theirs.p(95), "ms", False)
        print(f"{'errors, ' + mine.label:<52} {sum(mine.errors.values()):8d}"
              f"{'':8}vs {sum(theirs.errors.values()):8d}")
    row("resident memory, all services", ours.memory_total, stock.memory_total, "MB", False)
    rasa = [name for name in ours.memory if name.startswith("rasa server")]
    row("resident memory, Rasa server(s)", sum(ours.memory[n][0] for n in rasa),
        sum(stock.memory[n][0] for n in rasa), "MB", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequential", type=int, default=60, help="sequential turns")
    parser.add_argument("--users", type=int, default=100, help="concurrent conversations")
    parser.add_argument("--think", type=float, default=DEFAULT_THINK,
                        help="mean pause between a citizen's messages, seconds (exponential; "
                             f"default {DEFAULT_THINK}; 0 = none)")
    parser.add_argument("--saturation-users", type=int, default=20,
                        help="citizens in the no-pause saturation phase (0 = skip it)")
    parser.add_argument("--duration", type=float, default=90.0,
                        help="measured seconds per phase (0 = until --rounds are done)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before measuring (default: twice the think time, >= 5)")
    parser.add_argument("--rounds", type=int, default=0,
                        help="conversations per citizen, stopping early (0 = no limit)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--production", action="store_true",
                        help="production mode: instances behind balancers, PostgreSQL + Redis "
                             "(a fresh database, dropped afterwards)")
    parser.add_argument("--stock", action="store_true",
                        help="also measure the stock `rasa init` configuration and print ratios")
    args = parser.parse_args()
    if not args.duration and not args.rounds:
        parser.error("give --duration or --rounds")

    # A benchmark floods by design: lift the per-sender limit that protects the REST channel.
    os.environ["GOV_SENDER_BURST"] = os.environ["GOV_SENDER_MESSAGES_PER_MINUTE"] = "1000000"
    load_average = Path("/proc/loadavg").read_text().split()[:3]
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(load_average)} at start; "
          f"{TURNS}-turn conversations, think time {args.think:g} s (exponential)", flush=True)
    mode = "production mode" if args.production else "embedded mode"
    ours = measure(f"this configuration, {mode}", args, stock=False)
    if args.stock:
        stock = measure(f"stock configuration, {mode}", args, stock=True)
        compare(ours, stock)


if __name__ == "__main__":
    main()
