"""The state machine: what one more application costs, and events per second.

Four ways to apply the same triggers to the default pack's states, from the bare minimum
to the whole engine (the engine's own figure is in ``bench/engine.py``):

- a hand-rolled dict ``{(state, trigger): next_state}``: the floor;
- raw ``transitions``, static pattern: one ``Machine`` with no model attached, each
  trigger fired with ``machine.events[name].trigger(model)`` on a model whose ``state``
  is set (what ``followup.runtime.machine`` is built on);
- ``followup.runtime.machine.StateMachine.apply``: the same, plus our checks and error messages;
- python-statemachine, one instance per application (its usual pattern), when installed
  (``pip install followup-engine[bench]``): another library's bare throughput.

The triggers per application are what the engine asks of its machine for
thank_you_sent -> called -> offer_received: the event, the pack's own move
``auto:all-thanked`` that follows it, then the two others.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any

from transitions import Machine

from bench._common import Row, repeat, sized, timed, traced_bytes
from followup import RulePack, load_rules
from followup.runtime.machine import AUTO_PREFIX, StateMachine

__all__ = [
    "SEQUENCE",
    "PsmRunner",
    "add_model_cost",
    "dict_table",
    "events_per_second",
    "per_application_cost",
    "psm_machine",
    "psm_runner",
    "raw_machine",
    "raw_runner",
]

SEQUENCE = ("thank_you_sent", AUTO_PREFIX + "all-thanked", "called", "offer_received")
GROUP = "1. state machine"


class _Model:
    """An application as a state machine sees it: just its state."""

    def __init__(self, state: str) -> None:
        self.state = state


def raw_machine(pack: RulePack) -> Machine:
    """A bare ``transitions.Machine`` with the pack's states and moves, as
    ``followup.runtime.machine`` builds it (guards left out: none of SEQUENCE has one)."""
    machine = Machine(model=None, states=list(pack.states), initial=pack.initial,
                      send_event=True, auto_transitions=False, ignore_invalid_triggers=False)
    for event in pack.events.values():
        machine.add_transition(
            trigger=event.name,
            source=list(event.sources) if event.sources is not None else "*",
            dest=event.dest)
    for auto in pack.transitions:
        machine.add_transition(trigger=AUTO_PREFIX + auto.name, source=list(auto.sources),
                               dest=auto.dest)
    return machine


def dict_table(pack: RulePack) -> Callable[[str, str], str]:
    """The hand-rolled floor: a dict lookup per trigger, with the same refusal."""
    table: dict[tuple[str, str], str] = {}
    for event in pack.events.values():
        for state in event.sources if event.sources is not None else pack.states:
            table[state, event.name] = event.dest or state
    for auto in pack.transitions:
        for state in auto.sources:
            table[state, AUTO_PREFIX + auto.name] = auto.dest

    def apply(state: str, trigger: str) -> str:
        try:
            return table[state, trigger]
        except KeyError:
            raise ValueError(f"{trigger!r} cannot be applied in state {state!r}") from None

    return apply


def psm_machine(pack: RulePack) -> tuple[type[Any], dict[str, str]]:
    """A python-statemachine class with the pack's states and moves, and the event name
    it uses for each trigger (its events must be identifiers)."""
    from statemachine import State
    from statemachine import StateMachine as PsmMachine

    states = {s: State(s, value=s, initial=s == pack.initial) for s in pack.states}
    attrs: dict[str, Any] = dict(states)
    names: dict[str, str] = {}

    def add(trigger: str, sources: tuple[str, ...], dest: str | None) -> None:
        moves: Any = None
        for source in sources:
            move = states[source].to(states[dest]) if dest else states[source].to.itself()
            moves = move if moves is None else moves | move
        names[trigger] = "ev_" + "".join(c if c.isalnum() else "_" for c in trigger)
        attrs[names[trigger]] = moves

    for event in pack.events.values():
        add(event.name, event.sources or pack.states, event.dest)
    for auto in pack.transitions:
        add(AUTO_PREFIX + auto.name, auto.sources, auto.dest)
    return type("PackMachine", (PsmMachine,), attrs), names


def has_psm() -> bool:
    """Whether python-statemachine is installed (the ``bench`` extra)."""
    return importlib.util.find_spec("statemachine") is not None


# -- what one more application costs -----------------------------------------------------


def per_application_cost(n: int, runs: int) -> list[Row]:
    """Make ``n`` applications drivable by our StateMachine: nothing is attached, so this
    is only ``n`` objects holding a state (the machine is built once per pack)."""
    pack = load_rules(None)
    machine = StateMachine(pack)

    def make() -> list[_Model]:
        models = [_Model(pack.initial) for _ in range(n)]
        # Drivable as they are: the shared machine takes a state and gives one back.
        models[0].state = machine.apply(models[0].state, "called") or models[0].state
        return models

    build = repeat(runs, lambda: timed(lambda: StateMachine(pack)) * 1e3)
    seconds = repeat(runs, lambda: timed(make))
    memory = repeat(runs, lambda: float(traced_bytes(make)))
    return [
        Row("1.1", GROUP, "our StateMachine: build once per pack", "ms", build),
        Row("1.2", GROUP, f"our StateMachine: make {sized(n)} applications drivable", "ms",
            tuple(s * 1e3 for s in seconds),
            note="nothing attached: one object holding `state` per application"),
        Row("1.3", GROUP, f"our StateMachine: memory for {sized(n)} applications", "MB",
            tuple(b / 1e6 for b in memory),
            note=f"{median(memory) / n:.0f} B per application (tracemalloc)"),
    ]


def add_model_cost(sizes: tuple[int, int], target: int, runs: int) -> list[Row]:
    """``transitions`` ``add_model`` for ``sizes`` models (measured) and for ``target``
    models (extrapolated when it is not one of them).

    Each sample: a fresh Machine, ``n`` fresh models, then ``add_model`` for each one;
    time without tracing, memory in separate runs under tracemalloc.

    The time is extrapolated as a·n + b·n². ``add_model`` checks ``model not in
    self.models``, a list, so adding the k-th model compares it with k - 1 others: b is
    half the cost of one comparison, measured directly by scanning the full list after
    each run at the larger size; a (binding ~30 functions to the model, and the garbage
    collector walking them) is what remains of that run's time. Fitting both from the
    two times instead amplifies their noise. Memory grows linearly.
    """
    pack = load_rules(None)

    def attach(n: int) -> tuple[Machine, list[_Model]]:
        machine = raw_machine(pack)
        models = [_Model(pack.initial) for _ in range(n)]
        for model in models:
            machine.add_model(model)
        return machine, models

    def time_of(n: int) -> tuple[float, float]:
        """Seconds for ``attach(n)``, and seconds per comparison in ``x in models``."""
        start = time.perf_counter()
        machine, _ = attach(n)
        elapsed = time.perf_counter() - start
        stranger = _Model(pack.initial)
        scans = []
        for _ in range(3):
            t = time.perf_counter()
            found = stranger in machine.models
            scans.append(time.perf_counter() - t)
        assert not found
        return elapsed, min(scans) / n

    def memory_of(n: int) -> float:
        return float(traced_bytes(lambda: attach(n)))

    n1, n2 = sizes
    rows: list[Row] = []
    seconds: dict[int, tuple[float, ...]] = {}
    compare: tuple[float, ...] = ()
    memory: dict[int, tuple[float, ...]] = {}
    for i, n in enumerate(sizes):
        seconds[n], compare = zip(*repeat(runs, lambda n=n: time_of(n)), strict=True)  # type: ignore[misc]
        memory[n] = repeat(runs, lambda n=n: memory_of(n))  # type: ignore[misc]
        rows.append(Row(f"1.{4 + 2 * i}", GROUP, f"transitions add_model: {sized(n)} models",
                        "s", seconds[n], note="measured"))
        rows.append(Row(f"1.{5 + 2 * i}", GROUP,
                        f"transitions add_model: memory for {sized(n)} models", "MB",
                        tuple(b / 1e6 for b in memory[n]),
                        note=f"measured; {median(memory[n]) / n:,.0f} B per model (tracemalloc)"))

    def extrapolated(t2: float, per_comparison: float) -> float:
        b = per_comparison / 2
        a = max(0.0, t2 - b * n2 * n2) / n2
        return a * target + b * target * target

    def linear(m1: float, m2: float) -> float:
        return m2 + (m2 - m1) / (n2 - n1) * (target - n2)

    if target in sizes:
        far_time, far_memory = seconds[target], memory[target]
        time_note = memory_note = "measured"
    else:
        # Run i at the larger size gives sample i at the target.
        far_time = tuple(extrapolated(*p) for p in zip(seconds[n2], compare, strict=True))
        far_memory = tuple(linear(*p) for p in zip(memory[n1], memory[n2], strict=True))
        b = median(compare) / 2
        share = b * target * target / median(far_time)
        time_note = (f"extrapolated from {sized(n2)} as a·n + b·n², b from a comparison's "
                     f"cost ({median(compare) * 1e9:.1f} ns); {share:.0%} of it the n² term")
        memory_note = f"extrapolated from {sized(n1)} and {sized(n2)}, linearly"
    rows.append(Row("1.8", GROUP, f"transitions add_model: {sized(target)} models", "s",
                    far_time, note=time_note))
    rows.append(Row("1.9", GROUP, f"transitions add_model: memory for {sized(target)} models",
                    "MB", tuple(b / 1e6 for b in far_memory), note=memory_note))
    return rows


# -- events per second -------------------------------------------------------------------


def raw_runner(pack: RulePack, apps: int) -> Callable[[], float]:
    """One run of raw ``transitions`` (the static pattern, 1.11): ``apps`` models driven
    through SEQUENCE; the run returns triggers per second."""
    events: Any = raw_machine(pack).events
    initial = pack.initial
    count = apps * len(SEQUENCE)

    def run_raw() -> float:
        start = time.perf_counter()
        for _ in range(apps):
            model = _Model(initial)
            for trigger in SEQUENCE:
                events[trigger].trigger(model)
        elapsed = time.perf_counter() - start
        assert model.state == "offer", model.state
        return count / elapsed

    return run_raw


@dataclass(frozen=True)
class PsmRunner:
    """One run of python-statemachine (1.15), and how long making one instance took."""

    run: Callable[[], float]
    make_seconds: float


def psm_runner(pack: RulePack, apps: int) -> PsmRunner | None:
    """python-statemachine, one instance per application, made before the clock starts
    (making one takes far longer than driving it: see the note); None when it is not
    installed."""
    if not has_psm():
        return None
    psm, names = psm_machine(pack)
    psm_sequence = [names[t] for t in SEQUENCE]
    made = time.perf_counter()
    psm(), psm()
    make_seconds = (time.perf_counter() - made) / 2

    def run_psm() -> float:
        machines = [psm() for _ in range(apps)]
        start = time.perf_counter()
        for m in machines:
            for trigger in psm_sequence:
                m.send(trigger)
        elapsed = time.perf_counter() - start
        assert machines[-1].current_state_value == "offer", machines[-1].current_state_value
        return apps * len(SEQUENCE) / elapsed

    return PsmRunner(run_psm, make_seconds)


def events_per_second(apps: int, runs: int) -> list[Row]:
    """Triggers per second for ``apps`` applications driven through SEQUENCE each: the
    dict table, raw transitions and our StateMachine.apply."""
    pack = load_rules(None)
    initial = pack.initial
    table = dict_table(pack)
    ours = StateMachine(pack)
    count = apps * len(SEQUENCE)

    def run_table() -> float:
        start = time.perf_counter()
        for _ in range(apps):
            state = initial
            for trigger in SEQUENCE:
                state = table(state, trigger)
        elapsed = time.perf_counter() - start
        assert state == "offer", state
        return count / elapsed

    run_raw = raw_runner(pack, apps)

    def run_ours() -> float:
        start = time.perf_counter()
        for _ in range(apps):
            state: str | None = initial
            for trigger in SEQUENCE:
                state = ours.apply(state, trigger)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
        assert state == "offer", state
        return count / elapsed

    psm_apps = min(apps, 2_000)
    psm = psm_runner(pack, psm_apps)
    psm_make = psm.make_seconds if psm is not None else 0.0
    run_psm = psm.run if psm is not None else None

    # Alternately, one of each per round, so a change in the machine's load touches all.
    rounds = repeat(runs, lambda: (run_table(), run_raw(), run_ours(),
                                   run_psm() if run_psm is not None else 0.0))
    table_rate, raw_rate, ours_rate, psm_rate = zip(*rounds, strict=True)
    what = f"{sized(apps)} applications x {len(SEQUENCE)} triggers"
    extra = []
    if psm is not None:
        extra.append(Row(
            "1.15", GROUP, "events/s: python-statemachine, one instance per application",
            "events/s", psm_rate,
            note=f"{sized(psm_apps)} applications x {len(SEQUENCE)} triggers, `sm.send(name)`; "
            f"python-statemachine {_psm_version()}; making one instance (not timed): "
            f"{psm_make * 1e6:,.0f} µs"))
    return [
        Row("1.10", GROUP, "events/s: hand-rolled dict table", "events/s", table_rate,
            note=what),
        Row("1.11", GROUP, "events/s: raw transitions, static pattern", "events/s", raw_rate,
            note=what + "; `machine.events[name].trigger(model)`"),
        Row("1.12", GROUP, "events/s: our StateMachine.apply", "events/s", ours_rate,
            note=what),
        *extra,
    ]


def _psm_version() -> str:
    from importlib import metadata

    return metadata.version("python-statemachine")
