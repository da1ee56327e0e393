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

Each function here builds a replacement; bot/patches.py puts them in place.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import OrderedDict
from typing import Any, Dict, List, Tuple, Type


def validated_once_compiled(_: Any) -> Any:
    """For `RemoteAction._validate_action_result`: the schema checked once, known-valid events
    not checked again."""
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction

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

    return _validate_action_result


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


def resolved_from_a_table(original: Any) -> Any:
    """For `Event.resolve_by_type`: event classes looked up by name in a kept table."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

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

    return resolve_by_type


class _KeptSession:
    """`async with endpoint.session() as session:` hands out the kept session and leaves it
    open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_: Any) -> None:
        return None


# The kept sessions, by (event loop, headers, basic auth).
_KEPT: Dict[Tuple[Any, ...], Any] = {}


def kept_sessions(original: Any) -> Any:
    """For `EndpointConfig.session`: one kept-alive session per endpoint and event loop."""
    kept = _KEPT  # closed by close_kept_sessions

    @functools.wraps(original)
    def session(self: Any) -> Any:
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

    return session


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


async def close_kept_sessions(*_: Any) -> None:
    """A Sanic `after_server_stop` listener: close the kept sessions when the server stops (no
    "unclosed session" warnings)."""
    for each in list(_KEPT.values()):
        if not each.closed:
            await each.close()
    _KEPT.clear()
