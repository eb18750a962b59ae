"""The state machine of a rule pack, built with ``transitions`` and shared by every
application.

One ``transitions.Machine`` serves all applications: an application's state is set on a
small subject object and the event is triggered with ``machine.events[name].trigger``.
No model is ever attached with ``add_model`` (that is O(n) per call in transitions 0.9),
so one more application costs nothing here. The machine is built (and ``transitions``
imported) on the first event applied, so a command that only reads never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from followup.errors import InvalidEvent, UnknownEvent, suggest
from followup.language.conditions import holds
from followup.language.expressions import Condition
from followup.language.pack import RulePack

__all__ = ["AUTO_PREFIX", "StateMachine"]

#: Triggers of the pack's own transitions are named ``auto:NAME``; events never contain ':'.
AUTO_PREFIX = "auto:"

class _Subject:
    """What transitions drives: a state and the context guards are evaluated in."""

    __slots__ = ("context", "state")

    def __init__(self, state: str, context: Mapping[str, Any] | Callable[[], Mapping[str, Any]]):
        self.state = state
        self.context = context


def _guard(condition: Condition) -> Callable[..., bool | None]:
    def check(event_data: Any) -> bool:
        context: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = event_data.model.context
        if callable(context):
            context = context()
            event_data.model.context = context
        return holds(condition, context)

    return check


class StateMachine:
    """Applies events and the pack's own transitions to a state."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self._events: dict[str, Any] | None = None  # the machine's events, once built
        self._refused: type[Exception] = Exception  # transitions' MachineError, once built

    def _build(self) -> dict[str, Any]:
        import logging

        from transitions import Machine, MachineError

        log = logging.getLogger("transitions")
        if log.level == logging.NOTSET:
            # At INFO, transitions logs every trigger and costs about two thirds of the
            # throughput; keep it at WARNING unless the embedder configured it.
            log.setLevel(logging.WARNING)
        pack = self.pack
        machine = Machine(
            model=None,
            states=list(pack.states),
            initial=pack.initial,
            send_event=True,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        for event in pack.events.values():
            machine.add_transition(
                trigger=event.name,
                source=list(event.sources) if event.sources is not None else "*",
                dest=event.dest,
                conditions=_guard(event.guard) if event.guard is not None else None,
            )
        for auto in pack.transitions:
            conditions: list[str | Callable[..., bool | None]] = [
                _guard(c) for c in (auto.when, auto.guard) if c is not None
            ]
            machine.add_transition(
                trigger=AUTO_PREFIX + auto.name,
                source=list(auto.sources),
                dest=auto.dest,
                conditions=conditions or None,
            )
        self._refused = MachineError
        self._events = machine.events
        return self._events

    def apply(
        self,
        state: str,
        trigger: str,
        context: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = {},  # noqa: B006
    ) -> str | None:
        """The state after ``trigger`` in ``state``, or ``None`` when a guard refused it.

        ``context`` (or a function giving it, called only if a guard needs it) is what
        guards see. Raises ``UnknownEvent`` or ``InvalidEvent`` (not allowed in this state).
        """
        events = self._events if self._events is not None else self._build()
        event = events.get(trigger)
        if event is None:
            raise UnknownEvent(
                f"unknown event {trigger!r}{suggest(trigger, self.pack.events)}: the rule "
                f"pack {self.pack.name!r} defines "
                f"{', '.join(self.pack.events)}"
            )
        subject = _Subject(state, context)
        try:
            moved = event.trigger(subject)
        except self._refused as exc:
            spec = self.pack.events.get(trigger)
            allowed = ", ".join(spec.sources) if spec and spec.sources else "any state"
            raise InvalidEvent(
                f"{trigger!r} cannot be recorded in state {state!r} (allowed in: {allowed})"
            ) from exc
        return subject.state if moved else None

    def allowed(self, state: str) -> list[str]:
        """The events a person may record in ``state``."""
        return [
            name
            for name, spec in self.pack.events.items()
            if spec.sources is None or state in spec.sources
        ]
