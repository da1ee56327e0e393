"""The machine's PostgreSQL and Redis for tests: started when installed but stopped, stopped
on purpose by fault tests, and always running again afterwards."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get("GOV_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_CTL = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main"
REDIS_START = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
               "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")
REDIS_STOP = "redis-cli shutdown nosave"


def postgres_up() -> bool:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def redis_up() -> bool:
    try:
        return subprocess.run(["redis-cli", "ping"], capture_output=True, text=True,
                              check=False).stdout.strip() == "PONG"
    except FileNotFoundError:
        return False


def shell(command: str) -> None:
    subprocess.run(command, shell=True, check=False, capture_output=True, timeout=60)


def until(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def ensure_postgres() -> bool:
    """Start the machine's PostgreSQL if it is installed but not running; False if absent."""
    if postgres_up():
        return True
    if not os.path.isdir("/etc/postgresql"):
        return False
    shell(f"{PG_CTL} start")
    return until(postgres_up)


def ensure_redis() -> bool:
    """Start the machine's Redis if it is installed but not running; False if absent."""
    if redis_up():
        return True
    shell(REDIS_START)
    return until(redis_up, 10)


@contextmanager
def down(name: str) -> Iterator[None]:
    """PostgreSQL or Redis stopped for the duration of the block, and running again after it,
    even when the block fails."""
    stop = f"{PG_CTL} stop" if name == "postgresql" else REDIS_STOP
    up = postgres_up if name == "postgresql" else redis_up
    shell(stop)
    assert until(lambda: not up(), 15), f"{name} did not stop"
    try:
        yield
    finally:
        assert (ensure_postgres if name == "postgresql" else ensure_redis)(), \
            f"{name} did not come back"
