"""Every change the project makes to Rasa's and rasa_sdk's behaviour, in one place and one order.

`install()` (services/rasa_server.py, before Rasa's main) refuses to start on a Rasa it was
not tested with, then replaces these attributes of Rasa in this order (`PATCHES`, the same
table in code). The replacements are built in the module named, which gives the reasons in
full; each keeps the original it wraps. `Agent.handle_message` and `rasa.core.run.configure_app`
get additions from two modules each: they are wrapped once each, here, in a stated order.

 #  group          Rasa attribute → what changes (module) — why · test
 1  logging        coloredlogs.install → our log handler again (bot/rasa_logs) — one format,
                   personal data masked · tests/rasa/test_rasa_logs.py
 2  logging        rasa.core.utils.configure_file_logging → `--log-file` written in our format
                   — the event log masked too · tests/rasa/test_rasa_logs.py
 3  logging        rasa.utils.common.update_sanic_log_level → Sanic logs through the root again
                   — Rasa cuts Sanic's loggers off · tests/rasa/test_rasa_logs.py
 4  logging        rasa.__main__.configure_structlog → structlog events become log records —
                   Rasa's renderers bypass masking · tests/rasa/test_rasa_logs.py
 5  logging        rasa.shared.utils.cli.print_color → a log line instead of print() —
                   console output in the one format · tests/rasa/test_rasa_logs.py
 6  speed          RemoteAction._validate_action_result → schema checked once, known-valid
                   events not again (bot/speedups) — half the CPU · tests/rasa/test_speedups.py
 7  speed          Event.resolve_by_type → a name → class table (bot/speedups) — a subclass walk
                   per stored event · tests/rasa/test_speedups.py
 8  speed          EndpointConfig.session → kept-alive sessions, ujson bodies (bot/speedups) —
                   a connection per action call · tests/rasa/test_speedups.py
 9  off-loop       MessageProcessor.parse_message → the NLU graph in a worker thread, bounded
                   text (bot/off_loop) — one message froze the server · tests/rasa/test_off_loop.py
10  metrics        MessageProcessor.log_message → fallbacks counted (bot/observability) —
                   /metrics · tests/rasa/test_action_server_down.py
11  lock           LockStore.lock → an expired waiting ticket queues again (bot/ticket_lock) —
                   Rasa waits forever · tests/rasa/test_ticket_lock.py
12  apology        RemoteAction.run → the action server down: an apology (bot/resilience) —
                   not silence · tests/rasa/test_action_server_down.py
13  apology        FormAction.run → a form's validation unreachable: an apology, the form stays
                   (bot/resilience) · tests/e2e/test_supervised_faults.py
14  apology        Agent._create_tracker_store → no FailSafeTrackerStore (bot/resilience) — it
                   forgets the conversation · tests/e2e/test_production_mode.py
15  turn           Agent.handle_message → each turn counted, timed and logged
                   (bot/observability); a failed turn, after that, an apology (bot/resilience)
                   · tests/rasa/test_action_server_down.py, tests/e2e/test_production_mode.py
16  turn           MessageProcessor.handle_message → a turn a balancer sent again after the
                   instance handling it died is answered from the conversation, not handled
                   twice (bot/retried_turns) · tests/e2e/test_retried_turns.py
17  script         MessageProcessor._send_bot_messages → each reply in the script the
                   citizen writes: Traditional for Traditional (bot/scripts) — every text
                   channel's replies pass here · tests/e2e/test_traditional_replies.py
18  app            rasa.core.run.configure_app → /healthz, /readyz, /metrics
                   (bot/observability); kept sessions closed at stop (bot/speedups); the
                   balancer's request id kept for the turn (bot/retried_turns); OpenCC
                   loaded before serving (bot/scripts)
                   · tests/rasa/test_action_server_down.py, tests/test_supervisor.py,
                   tests/rasa/test_retried_turns.py

rasa_sdk (the action server) is not patched: `install_sdk(plugin)` (services/action_server.py)
refuses an untested rasa_sdk and registers the plugin with rasa_sdk's own extension hook
(`attach_sanic_app_extensions`): the action token check and the actions' start-up work.

Standard library only at import (the action server imports this in the app environment, which
has no Rasa); a patch's modules are imported when it is applied.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
from dataclasses import dataclass
from typing import Any, Callable

# The versions these changes were written against and tested with (the lock files' pins;
# tests/test_patches.py checks that they agree).
TESTED = {"rasa": "3.6.21", "rasa-sdk": "3.21.1"}
LOCK_FILES = {"rasa": "requirements/rasa.lock", "rasa-sdk": "requirements/app.lock"}
_MARK = "_gov_patch"


@dataclass(frozen=True)
class Patch:
    """`target` ("module:attribute" or "module:Class.attribute") becomes, according to `how`:
    "wrap" — what the builder `use` makes of the original; "replace" — `use` itself; "then" —
    the original followed by a call of `use()`. Both are imported only when applied."""

    group: str  # what a test may install alone
    target: str
    how: str
    use: str  # "module:name"

    def apply(self) -> None:
        """Replace the target, once: applying it again changes nothing."""
        owner, name = _owner(self.target)
        original = getattr(owner, name)
        if getattr(original, _MARK, None) == self.target:
            return
        given = _imported(self.use)
        replacement = {"wrap": lambda: given(original), "replace": lambda: given,
                       "then": lambda: _followed_by(original, given)}[self.how]()
        setattr(replacement, _MARK, self.target)
        static = isinstance(inspect.getattr_static(owner, name), staticmethod)
        setattr(owner, name, staticmethod(replacement) if static else replacement)


# The table above, in installation order.
PATCHES = (
    Patch("logging", "coloredlogs:install", "replace", "bot.rasa_logs:configure_again"),
    Patch("logging", "rasa.core.utils:configure_file_logging", "then",
          "bot.rasa_logs:file_log_in_our_format"),
    Patch("logging", "rasa.utils.common:update_sanic_log_level", "then",
          "bot.rasa_logs:sanic_through_ours"),
    Patch("logging", "rasa.__main__:configure_structlog", "then",
          "bot.rasa_logs:structlog_through_logging"),
    Patch("logging", "rasa.shared.utils.cli:print_color", "replace", "bot.rasa_logs:print_color"),
    Patch("speed", "rasa.core.actions.action:RemoteAction._validate_action_result", "wrap",
          "bot.speedups:validated_once_compiled"),
    Patch("speed", "rasa.shared.core.events:Event.resolve_by_type", "wrap",
          "bot.speedups:resolved_from_a_table"),
    Patch("speed", "rasa.utils.endpoints:EndpointConfig.session", "wrap",
          "bot.speedups:kept_sessions"),
    Patch("off-loop", "rasa.core.processor:MessageProcessor.parse_message", "wrap",
          "bot.off_loop:parsed_in_a_worker_thread"),
    Patch("metrics", "rasa.core.processor:MessageProcessor.log_message", "wrap",
          "bot.observability:fallbacks_counted"),
    Patch("lock", "rasa.core.lock_store:LockStore.lock", "replace",
          "bot.ticket_lock:requeueing_lock"),
    Patch("apology", "rasa.core.actions.action:RemoteAction.run", "wrap",
          "bot.resilience:action_failures_apologised"),
    Patch("apology", "rasa.core.actions.forms:FormAction.run", "wrap",
          "bot.resilience:form_failures_apologised"),
    Patch("apology", "rasa.core.agent:Agent._create_tracker_store", "replace",
          "bot.resilience:tracker_store_without_fail_safe"),
    Patch("turn", "rasa.core.agent:Agent.handle_message", "wrap",
          "bot.patches:measured_then_apologised"),
    Patch("turn", "rasa.core.processor:MessageProcessor.handle_message", "wrap",
          "bot.retried_turns:answered_once"),
    Patch("script", "rasa.core.processor:MessageProcessor._send_bot_messages", "wrap",
          "bot.scripts:sent_in_the_citizens_script"),
    Patch("app", "rasa.core.run:configure_app", "wrap", "bot.patches:with_routes_and_cleanup"),
)


def install(*groups: str) -> None:
    """Refuse an untested Rasa, then apply every patch in order (or only those of `groups`,
    for a test that needs Rasa otherwise unchanged)."""
    require_tested("rasa")
    for patch in PATCHES:
        if not groups or patch.group in groups:
            patch.apply()


def install_sdk(plugin: object) -> None:
    """Refuse an untested rasa_sdk, then register `plugin` (a module or object with
    `attach_sanic_app_extensions` hook implementations) with rasa_sdk's plugin manager."""
    require_tested("rasa-sdk")
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    if not manager.is_registered(plugin):
        manager.register(plugin)


def require_tested(distribution: str) -> None:
    """Exit (code 1, saying why in both languages) unless `distribution` is installed in the
    version the patches were tested with."""
    try:
        installed: str | None = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != TESTED[distribution]:
        raise SystemExit(untested_message(distribution, installed))


def untested_message(distribution: str, installed: str | None) -> str:
    tested, lock = TESTED[distribution], LOCK_FILES[distribution]
    return (f"{distribution} {installed or '未安装'}：本项目对它的修改只在 {tested} 版上测试过，"
            f"因此拒绝启动。请安装 {lock} 中的版本（make setup）。\n"
            f"{distribution} {installed or 'is not installed'}: the project's changes to it "
            f"were tested only with {tested}, so it will not start. Install the version in "
            f"{lock} (make setup).")


def _owner(target: str) -> tuple[Any, str]:
    module, _, path = target.partition(":")
    *owners, name = path.split(".")
    owner: Any = importlib.import_module(module)
    for each in owners:
        owner = getattr(owner, each)
    return owner, name


def _imported(name: str) -> Any:
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _followed_by(original: Callable[..., Any], after: Callable[[], None]) -> Callable[..., Any]:
    """The original (one of Rasa's logging set-ups), then `after()`."""

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        after()
        return result

    return wrapped


def measured_then_apologised(original: Any) -> Any:
    """`Agent.handle_message`, where every channel's turns meet: measured (metrics and the
    `turn` log line see failures too), then a failure becomes an apology. A message with
    nothing to read is asked to be typed again (`bot.blank_messages`)."""
    from bot import blank_messages, observability, resilience

    @functools.wraps(original)
    async def handle_message(self: Any, message: Any) -> Any:
        try:
            with observability.measured_turn(message):
                if blank_messages.is_blank(message.text):
                    return await blank_messages.ask_for_text(self, message)
                return await original(self, message)
        except Exception as error:
            await resilience.apologise_for_failed_turn(self, message, error)
            return None

    return handle_message


def with_routes_and_cleanup(original: Any) -> Any:
    """`rasa.core.run.configure_app`: Rasa's Sanic app with the health, readiness and metrics
    routes, the kept action-server sessions closed when it stops, the balancer's request id
    kept for the turn, and the script converters loaded before it serves."""
    from bot import observability, retried_turns, scripts, speedups

    @functools.wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.register_listener(speedups.close_kept_sessions, "after_server_stop")
        app.register_listener(scripts.load_converters, "before_server_start")
        app.register_middleware(retried_turns.remember_request_id, "request")
        observability.add_routes(app)
        return app

    return configure_app
