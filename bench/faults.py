"""`make bench-faults`: production mode as operators run it (`python -m stack run-production`,
supervisor included, own state, ports, database and Redis prefix; stack/launched.py) with
`--citizens` citizens talking continuously (bench/citizens.py), while a random Rasa or
action-server instance is killed with SIGKILL every `--interval` s for `--duration` s.

Reported against the targets of docs/benchmarks.md "Faults": lost or reset
conversations (0), failed requests (≤ 0.5%), time until each killed instance is back in
service (≤ 40 s), the stack still running at the end. Victims are drawn at random from the
instances in service, each round of kills going through every instance once in a shuffled
order (so no instance is killed so often that it trips the crash-loop limit, which would be
right for a process crashing by itself).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.citizens import Citizens
from stack.launched import Launched
from stack.production import ProductionSettings

INSTANCES = ["rasa server 1", "rasa server 2", "action server 1", "action server 2"]
TARGET_FAILED, TARGET_BACK = 0.005, 40.0


def victims(rng: random.Random) -> Iterator[str]:
    """Every instance once per round, rounds shuffled, for ever."""
    order: list[str] = []
    while True:
        if not order:
            order = rng.sample(INSTANCES, len(INSTANCES))
        yield order.pop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause between a citizen's messages, s")
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not all(d.reachable() for d in ProductionSettings().dependencies()):
        print("[bench-faults] PostgreSQL or Redis not reachable: not present, skipped")
        return 0
    rng = random.Random(args.seed)
    state = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    launched = Launched("run-production", state)
    print(f"[bench-faults] starting `python -m stack run-production` (state {state}) ...",
          flush=True)
    started = time.monotonic()
    kills: list[tuple[str, float | None]] = []
    watchers: list[threading.Thread] = []
    try:
        launched.start()
        print(f"[bench-faults] ready after {time.monotonic() - started:.0f} s; "
              f"{args.citizens} citizens talking (think {args.think} s), a kill every "
              f"{args.interval:.0f} s for {args.duration:.0f} s", flush=True)
        with Citizens(launched.settings.rasa_url, args.citizens, think=args.think,
                      seed=args.seed) as load:
            time.sleep(10)  # everyone talking
            begin, chosen = time.monotonic(), victims(rng)
            while time.monotonic() - begin < args.duration:
                in_service = {s["name"] for s in launched.status()["services"]
                              if s["state"] == "ready"}
                name = next(chosen)
                if name not in in_service:  # still coming back: the next in the round
                    name = next((n for n in INSTANCES if n in in_service), name)
                pid, killed_at = launched.kill(name)
                index = len(kills)
                kills.append((name, None))

                def watch(index: int = index, name: str = name, pid: int = pid,
                          killed_at: float = killed_at) -> None:
                    kills[index] = (name, launched.back(name, pid, killed_at, 180))

                watchers.append(threading.Thread(target=watch, daemon=True))
                watchers[-1].start()
                print(f"[bench-faults] t={time.monotonic() - begin:5.1f} s  killed {name} "
                      f"(pid {pid})", flush=True)
                time.sleep(max(0.0, begin + args.interval * len(kills) - time.monotonic()))
            for watcher in watchers:
                watcher.join(200)
            time.sleep(10)  # talking on with everything back
        running = launched.running()
        status = launched.status() or {}
    finally:
        launched.stop()
        from storage.provision import drop_database

        drop_database(launched.database_url)
        shutil.rmtree(state, ignore_errors=True)

    tally = load.tally
    share = tally.failed_requests / tally.requests if tally.requests else 1.0
    backs = [back for _, back in kills]
    worst = max((b for b in backs if b is not None), default=float("nan"))
    print("\n[bench-faults] results")
    for name, back in kills:
        print(f"  {name:<16} back in service after "
              f"{'NEVER' if back is None else f'{back:5.1f} s'}")
    print(f"  citizens: {tally.summary()}")
    for line in tally.lost[:10]:
        print(f"    lost: {line}")
    restarts = {s['name']: s['restarts'] for s in status.get('services', []) if s['restarts']}
    print(f"  supervisor restarts: {restarts}; full capacity at the end: "
          f"{status.get('full_capacity')}")
    checks = [
        ("lost or reset conversations", f"{len(tally.lost)}", not tally.lost, "0"),
        ("failed requests", f"{share:.2%}", share <= TARGET_FAILED, f"≤ {TARGET_FAILED:.1%}"),
        ("slowest killed instance back", f"{worst:.1f} s",
         all(b is not None and b <= TARGET_BACK for b in backs), f"≤ {TARGET_BACK:.0f} s"),
        ("stack still running", "yes" if running else "NO", running, "yes"),
    ]
    for label, value, met, target in checks:
        print(f"  {label:<30} {value:>8}   target {target:<7} {'met' if met else 'NOT met'}")
    return 0 if all(met for _, _, met, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
