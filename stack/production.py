"""Production mode on one machine: several Rasa and action-server instances behind balancers,
conversations in PostgreSQL, conversation locks in Redis (README "Production mode").

    Rasa balancer  :5005 ──► Rasa 1, Rasa 2 … ──► action balancer :5055 ──► actions 1, 2 …
    (HTTP and Socket.IO)         │                     (services/balancer.py: round robin,
                                 ▼                      failed instance → next instance)
              PostgreSQL (tracker, app database) + Redis (lock store, Socket.IO emits)

On several machines the same processes run per machine with a shared PostgreSQL and Redis and
a load balancer in front that proxies WebSockets and keeps Socket.IO long-polling sticky (this
one, or e.g. nginx with `ip_hash` for /socket.io/).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.registry import configured, from_env
from common.settings import PROJECT_ROOT, Settings, _free_port
from stack.credentials import write_credentials
from stack.environments import run
from stack.services import (
    Service,
    _web_service,
    readiness_args,
    secret_environment,
    speech_service,
    started,
)
from stack.supervisor import Dependency


@dataclass(frozen=True)
class ProductionSettings:
    rasa_instances: int = from_env("GOV_RASA_INSTANCES")
    action_instances: int = from_env("GOV_ACTION_INSTANCES")
    # Instance i listens on base + i; the balancers take the usual ports.
    rasa_base_port: int = from_env("GOV_RASA_BASE_PORT")
    action_base_port: int = from_env("GOV_ACTION_BASE_PORT")
    pg_host: str = from_env("GOV_TRACKER_PG_HOST")
    pg_port: str = from_env("GOV_TRACKER_PG_PORT")
    pg_db: str = from_env("GOV_TRACKER_PG_DB")
    pg_user: str = from_env("GOV_TRACKER_PG_USER")
    pg_password: str = from_env("GOV_TRACKER_PG_PASSWORD")
    redis_host: str = from_env("GOV_REDIS_HOST")
    redis_port: str = from_env("GOV_REDIS_PORT")
    redis_db: str = from_env("GOV_REDIS_DB")
    redis_prefix: str = from_env("GOV_REDIS_PREFIX")
    # A conversation's lock in Redis outlives the instance that took it when that instance is
    # killed mid-turn: the citizen's next message waits until it expires (Rasa's default 60 s).
    lock_lifetime: str = from_env("GOV_LOCK_LIFETIME_SECONDS")
    # "builtin" (services/balancer.py) or "haproxy" (deploy/haproxy/haproxy.cfg, Debian's haproxy)
    balancer: str = from_env("GOV_BALANCER")

    def isolated(self) -> ProductionSettings:
        """Free ports for every instance (tests run beside `make run-production`)."""
        return dataclasses.replace(self, rasa_base_port=_free_block(self.rasa_instances),
                                   action_base_port=_free_block(self.action_instances))

    def dependencies(self) -> list[Dependency]:
        """The shared servers the supervisor watches (stack/supervisor.py)."""
        return [Dependency("postgresql", self.pg_host, int(self.pg_port)),
                Dependency("redis", self.redis_host, int(self.redis_port))]

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def socketio_queue(self) -> dict[str, str]:
        """Socket.IO emits go through Redis, so a reply reaches the citizen's socket on any
        Rasa instance (channels/socketio.py). Pub/sub channels ignore the database number:
        the key prefix keeps two deployments on one Redis apart."""
        return {"redis_url": self.redis_url, "redis_channel": f"{self.redis_prefix}:socketio"}

    @property
    def database_url(self) -> str:
        password = f":{self.pg_password}" if self.pg_password else ""
        return (f"postgresql+psycopg://{self.pg_user}{password}@{self.pg_host}:"
                f"{self.pg_port}/{self.pg_db}")

    def environment(self, settings: Settings) -> dict[str, str]:
        """What endpoints.production.yml and the application database read."""
        return {
            **settings.process_env(),
            "GOV_TRACKER_PG_HOST": self.pg_host, "GOV_TRACKER_PG_PORT": self.pg_port,
            "GOV_TRACKER_PG_DB": self.pg_db, "GOV_TRACKER_PG_USER": self.pg_user,
            "GOV_TRACKER_PG_PASSWORD": self.pg_password,
            "GOV_REDIS_HOST": self.redis_host, "GOV_REDIS_PORT": self.redis_port,
            "GOV_REDIS_DB": self.redis_db, "GOV_REDIS_PREFIX": self.redis_prefix,
            "TICKET_LOCK_LIFETIME": self.lock_lifetime,  # read by rasa.core.lock_store
            "GOV_DATABASE_URL": configured("GOV_DATABASE_URL") or self.database_url,
            "GOV_LOG_FORMAT": configured("GOV_LOG_FORMAT") or "json",  # for log collectors
            **self.haproxy_addresses(settings),
        }

    def haproxy_addresses(self, settings: Settings) -> dict[str, str]:
        """GOV_RASA_<i> / GOV_ACTION_<i>: each instance's host:port, as
        deploy/haproxy/haproxy.cfg reads them."""
        return {
            **{f"GOV_RASA_{i + 1}": f"{settings.host}:{self.rasa_base_port + i}"
               for i in range(self.rasa_instances)},
            **{f"GOV_ACTION_{i + 1}": f"{settings.host}:{self.action_base_port + i}"
               for i in range(self.action_instances)},
            "GOV_HOST": settings.host, "GOV_RASA_PORT": str(settings.rasa_port),
            "GOV_ACTION_PORT": str(settings.action_port),
        }


def _free_block(count: int) -> int:
    """A base port whose next `count` ports were free a moment ago."""
    while True:
        base = _free_port()
        if base + count < 65535 and all(_port_free(base + i) for i in range(count)):
            return base


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def prepare(settings: Settings, production: ProductionSettings) -> None:
    """Create the PostgreSQL database if needed; migrate and seed the application data."""
    python = str(settings.app_venv / "bin" / "python")
    environment = production.environment(settings)
    # The URL (with the PostgreSQL password) in the environment, not on the command line.
    run([python, "-m", "storage.provision"],
        env={**environment, "GOV_DATABASE_URL": production.database_url})
    run([python, "-m", "storage.migrate"], env=environment)
    run([python, "-m", "storage.seed"], env=environment)
    run([python, "-m", "knowledge_base", "seed"], env=environment)
    run([python, "-m", "routing", "prepare"], env=environment)


def build_production_services(settings: Settings, production: ProductionSettings,
                              model: Path) -> list[Service]:
    app_python = str(settings.app_venv / "bin" / "python")
    services: list[Service] = []
    action_urls, rasa_urls = [], []
    for i in range(production.action_instances):
        port = production.action_base_port + i
        action_urls.append(settings.action_url_on(port))
        services.append(Service(
            name=f"action server {i + 1}",
            argv=[app_python, "-m", "services.action_server", "--actions", "actions", "--port",
                  str(port)],
            health_url=f"{action_urls[-1]}/health",
            log_path=settings.logs_dir / f"actions-{i + 1}.log"))
    # Rasa logs every turn and every failed action: no access line per action call as well.
    if production.balancer == "builtin":
        services.append(_balancer(settings, "action balancer", settings.action_port,
                                  action_urls, "/health",
                                  ["--no-access-log", "--health-path", "/health"],
                                  host=settings.action_host))
    credentials = str(write_credentials(settings, production.socketio_queue()))
    for i in range(production.rasa_instances):
        port = production.rasa_base_port + i
        rasa_urls.append(f"http://{settings.host}:{port}")
        services.append(Service(
            name=f"rasa server {i + 1}",
            argv=[str(settings.rasa_venv / "bin" / "python"), "-m", "services.rasa_server", "run",
                  "--model", str(model), "--endpoints", "endpoints.production.yml",
                  "--credentials", credentials, "--interface", settings.host,
                  "--port", str(port), "--cors", *settings.allowed_origins,
                  "--enable-api"],  # the API token comes from the environment
            health_url=f"{rasa_urls[-1]}/", log_path=settings.logs_dir / f"rasa-{i + 1}.log"))
    # The balancer also proxies Socket.IO (WebSocket, and long-polling kept on the instance
    # that holds the engine.io session); emits reach any instance's sockets through Redis.
    # An instance is in service once its model is loaded (bot/observability.py).
    if production.balancer == "builtin":
        services.append(_balancer(settings, "rasa balancer", settings.rasa_port, rasa_urls, "/",
                                  ["--health-path", "/readyz"]))
    else:
        services.append(_haproxy(settings, production))
    # The web chat page (Socket.IO) and the voice page (plain HTTP) both use the balancer.
    services.append(_web_service(settings, "web chat", "webchat", settings.web_port,
                                 ["--frame-ancestors", settings.frame_ancestors,
                                  "--voice-url", f"{settings.rasa_url}/webhooks/voice/webhook",
                                  *readiness_args(settings)]))
    services.append(_web_service(settings, "staff api", "staff", settings.staff_port))
    services.append(speech_service(settings))
    return services


HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def _haproxy(settings: Settings, production: ProductionSettings) -> Service:
    """Debian's HAProxy with the shipped configuration, in place of both balancers; it reads
    the instances' addresses from the environment (ProductionSettings.environment)."""
    if production.rasa_instances != 2 or production.action_instances != 2:
        raise SystemExit("GOV_BALANCER=haproxy: deploy/haproxy/haproxy.cfg lists 2 Rasa and 2 "
                         "action-server instances; add `server` lines there for more. / "
                         "haproxy.cfg 中列出 2 个 Rasa 和 2 个动作服务器实例，如需更多请添加 "
                         "`server` 行。")
    if not shutil.which("haproxy"):
        raise SystemExit("GOV_BALANCER=haproxy needs HAProxy: `apt-get install haproxy`. / "
                         "GOV_BALANCER=haproxy 需要先安装 HAProxy：`apt-get install haproxy`。")
    return Service(name="haproxy", argv=["haproxy", "-db", "-f", str(HAPROXY_CONFIG)],
                   health_url=f"{settings.rasa_url}/healthz",
                   log_path=settings.logs_dir / "haproxy.log")


def _balancer(settings: Settings, name: str, port: int, upstreams: list[str],
              health_path: str, options: list[str] | None = None,
              host: str | None = None) -> Service:
    host = host or settings.host
    argv = [str(settings.app_venv / "bin" / "python"), "-m", "services.balancer",
            "--host", host, "--port", str(port), *(options or [])]
    for upstream in upstreams:
        argv += ["--upstream", upstream]
    return Service(name=name, argv=argv, health_url=f"http://{host}:{port}{health_path}",
                   log_path=settings.logs_dir / f"{name.replace(' ', '-')}.log")


@contextmanager
def running_production_stack(settings: Settings, production: ProductionSettings, model: Path,
                             api_token: str | None = None) -> Iterator[list[Service]]:
    services = build_production_services(settings, production, model)
    # Every instance gets the same Rasa API token and action token.
    environment = {**production.environment(settings),
                   **secret_environment(api_token)}
    with started(services, environment, settings.ready_timeout):
        yield services





def main() -> None:
    """`python -m stack.production prepare`: what `make run-production` does before starting
    its processes — database created, migrated and seeded, sample knowledge base, Rasa's
    channel configuration written — for machines where systemd starts each process
    (deploy/systemd/gov-prepare.service)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m stack.production", description=main.__doc__)
    parser.add_argument("step", choices=["prepare"])
    parser.parse_args()
    settings, production = Settings(), ProductionSettings()
    prepare(settings, production)
    print(write_credentials(settings, production.socketio_queue()))


if __name__ == "__main__":
    main()
