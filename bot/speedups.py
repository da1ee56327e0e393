"""Rasa 3.6 spends most of a turn on work that gives the same result every time; do it once.

Found by profiling the Rasa server under load (README "Start-up, latency, memory"):

- **Action results**: every custom-action call (and `action_validate_slot_mappings` runs on
  every message, forms call theirs once or twice more) ends in `jsonschema.validate(result,
  schema)`, which first checks the *schema itself* against JSON Schema's meta-schema. With
  jsonschema 4.17 that check resolves `$dynamicRef`s through URL parsing and took over half of
  the Rasa process's CPU time under load. The schema is a constant: it is checked once here,
  and each result is then validated against it exactly as `jsonschema.validate` does (same
  validator class, same `best_match` error, same message), unless all its events were already
  found valid before (`_ValidEvents`).
- **Event classes by name**: loading a conversation turns each stored event back into an object,
  and Rasa looks its class up by walking every subclass of `Event` (with `inspect.isabstract`
  on each) once per event. The name → class table is kept, and rebuilt when a name is missing
  (a class imported later is still found).
- **Connections to the action server**: Rasa opens a new HTTP session and TCP connection for
  every custom-action call and closes it afterwards, so each call paid connection set-up on
  both sides; and it encodes the ~60 KB request (tracker and domain) with the standard json
  module, four times slower than ujson. Sessions are kept per endpoint and event loop
  (keep-alive connections; aiohttp closes idle ones after 15 s, well before the action server
  (120 s) or the balancer (75 s) would, so a request never meets a connection the other side
  is closing), and write their JSON with ujson.

Installed by services/rasa_server.py before Rasa starts.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import OrderedDict
from typing import Any, Dict, List, Tuple, Type


def install() -> None:
    _validate_action_results_once_compiled()
    _cache_event_classes()
    _keep_endpoint_sessions()


def _validate_action_results_once_compiled() -> None:
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "_compiled", False):
        return
    compiled: Dict[type, Tuple[Any, _ValidEvents]] = {}

    def validator_for(action_class: type, schema: Dict[str, Any]) -> Tuple[Any, _ValidEvents]:
        entry = compiled.get(action_class)
        if entry is None:
            cls = validators.validator_for(schema)
            cls.check_schema(schema)  # what jsonschema.validate does on every call
            entry = compiled[action_class] = (cls(schema), _ValidEvents())
        return entry

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        validator, valid_events = validator_for(type(self), self.action_response_format_spec())
        keys = valid_events.keys_if_shape_is_valid(result)
        if keys is not None and valid_events.all_known(keys):
            return True
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is not None:
            # Rasa's own wording (rasa/core/actions/action.py).
            from rasa.shared.constants import DOCS_BASE_URL

            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        if keys is not None:
            valid_events.remember(keys)
        return True

    _validate_action_result._compiled = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


class _ValidEvents:
    """Events (as canonical JSON) already found valid against Rasa's action-result schema.

    That schema is `{"type": "object", "properties": {"events": {"type": "array", "items":
    EVENT_SCHEMA}, "responses": {"type": "array", "items": {"type": "object"}}}}`: a result is
    valid exactly when it is an object whose events (if any) are a list of individually valid
    events and whose responses (if any) are a list of objects. The same few events come back
    all the time (`{"event": "slot", "name": "language", "value": "zh"}`), and checking one
    against the schema's `oneOf` of every event type is the slow part; a result made only of
    events seen valid before needs no schema check. Anything else is validated in full.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._known: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def keys_if_shape_is_valid(result: Any) -> List[str] | None:
        if not isinstance(result, dict):
            return None
        events, responses = result.get("events", []), result.get("responses", [])
        if not isinstance(events, list) or not isinstance(responses, list):
            return None
        if not all(isinstance(response, dict) for response in responses):
            return None
        try:
            return [json.dumps(event, sort_keys=True) for event in events]
        except (TypeError, ValueError):
            return None

    def all_known(self, keys: List[str]) -> bool:
        if not all(key in self._known for key in keys):
            return False
        for key in keys:
            self._known.move_to_end(key)
        return True

    def remember(self, keys: List[str]) -> None:
        for key in keys:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > self.LIMIT:
            self._known.popitem(last=False)


def _cache_event_classes() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    if getattr(Event.resolve_by_type, "_cached", False):
        return
    original = Event.resolve_by_type
    table: Dict[str, Type[Event]] = {}

    def rebuild() -> None:
        table.clear()
        # First match wins, as in Rasa's loop over the same list.
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)

    @functools.wraps(original)
    def resolve_by_type(type_name: str,
                        default: Type[Event] | None = None) -> Type[Event] | None:
        cls = table.get(type_name)
        if cls is None:
            rebuild()
            cls = table.get(type_name)
        if cls is not None:
            return cls
        return original(type_name, default)  # None for "topic", the default, or ValueError

    resolve_by_type._cached = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


class _KeptSession:
    """`async with endpoint.session() as session:` hands out the kept session and leaves it
    open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_: Any) -> None:
        return None


def _keep_endpoint_sessions() -> None:
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.session, "_kept", False):
        return
    original = EndpointConfig.session
    kept: Dict[Tuple[Any, ...], Any] = {}

    @functools.wraps(original)
    def session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside a coroutine: Rasa's own behaviour
            return original(self)
        key = (id(loop), repr(sorted(self.headers.items())),
               repr(sorted(self.basic_auth.items())))
        current = kept.get(key)
        if current is None or current.closed or current._loop is not loop:
            for stale in [k for k, s in kept.items() if s.closed or s._loop.is_closed()]:
                del kept[stale]
            current = kept[key] = _session_like_rasa(self)
        return _KeptSession(current)

    session._kept = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[method-assign]
    _close_on_stop(kept)


def _session_like_rasa(endpoint: Any) -> Any:
    """`EndpointConfig.session()`'s session (same headers, auth, timeout), writing request
    bodies with ujson (a Rasa dependency): the tracker and domain sent with every action call
    are ~60 KB of JSON, which the standard library encodes in ~1.3 ms and ujson in ~0.3 ms."""
    import aiohttp
    import ujson
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    auth = (aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth else None)
    return aiohttp.ClientSession(headers=endpoint.headers, auth=auth,
                                 timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                 json_serialize=ujson.dumps)


def _close_on_stop(kept: Dict[Tuple[Any, ...], Any]) -> None:
    """Close the kept sessions when the server stops (no "unclosed session" warnings)."""
    import rasa.core.run

    configure = rasa.core.run.configure_app

    @functools.wraps(configure)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = configure(*args, **kwargs)

        async def close_sessions(*_: Any) -> None:
            for each in list(kept.values()):
                if not each.closed:
                    await each.close()
            kept.clear()

        app.register_listener(close_sessions, "after_server_stop")
        return app

    rasa.core.run.configure_app = configure_app
