"""Forgetting what a form collected: after use, on cancel and on restart."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


def cleared(slots: tuple[str, ...]) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


class ClearSlotsAction(Action, ABC):
    """An action named `action_name` that empties `slots`; subclasses set both (abstract until
    they do, so rasa_sdk does not register the base class itself)."""

    @property
    @abstractmethod
    def action_name(self) -> str: ...

    @property
    @abstractmethod
    def slots(self) -> tuple[str, ...]: ...

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return cleared(self.slots)
