"""Message understanding off Rasa's event loop.

Rasa 3.6 runs the NLU graph (tokenizer, featurizers, sentence encoder, classifier, entity
extractors) synchronously inside `MessageProcessor.parse_message`, on the one event loop that
also serves every other citizen's HTTP request and socket. While one message was parsed nobody
else was answered; a ~900 KB message froze the server for 16 minutes. Here the graph runs in a
worker thread: the loop keeps serving others meanwhile (the components are stateless at
inference). Its input is bounded too: the channels refuse longer messages, and text arriving
another way (Rasa's HTTP API) is cut to GOV_MAX_MESSAGE_CHARS (`bot.limits`) before any
component, including Rasa's regex featurizer and extractor, sees it; the components also cut
their own input. The rest of `parse_message` is Rasa's.

`parsed_in_a_worker_thread` builds the replacement; bot/patches.py puts it in place.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from typing import Any, Dict

from bot.limits import MAX_MESSAGE_CHARS, bounded


def parsed_in_a_worker_thread(original: Any) -> Any:
    """For `MessageProcessor.parse_message`: the NLU graph in a worker thread, on bounded
    text."""
    from rasa.core.processor import structlogger
    from rasa.shared.core.trackers import DialogueStateTracker

    @functools.wraps(original)
    async def parse_message(self: Any, message: Any, tracker: Any = None,
                            only_output_properties: bool = True) -> Dict[str, Any]:
        if self.http_interpreter:  # an NLU server elsewhere: already off this loop
            return await original(self, message, tracker, only_output_properties)
        if isinstance(message.text, str) and len(message.text) > MAX_MESSAGE_CHARS:
            message.text = bounded(message.text)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.to_thread(self._parse_message_with_graph, message, tracker,
                                             only_output_properties)
        # What Rasa's parse_message does after the graph (rasa/core/processor.py).
        self._update_full_retrieval_intent(parse_data)
        structlogger.debug("processor.message.parse",
                           parse_data_text=copy.deepcopy(parse_data["text"]),
                           parse_data_intent=parse_data["intent"],
                           parse_data_entities=copy.deepcopy(parse_data["entities"]))
        self._check_for_unseen_features(parse_data)
        return parse_data

    return parse_message
