"""What one evaluation of a condition or template may make and take, and the checks that
hold it there.

Rule packs come from other people, and a reminder must never hang the daemon or fill its
memory. So every value an evaluation makes weighs at most ``MAX_TEXT``: characters of
text, plus one per item of a list or entry of a mapping, counted each time it appears
(a list that holds one long text twice weighs twice the text, as writing it out would).
A value is weighed where it is made: an operator (``*``, ``+``, ``%``, ``**``), a filter,
a method (``'a'.ljust(n)``), a list, tuple or mapping written in the template, and what
a lazy filter (``map``, ``select``) hands out as it is consumed. Where the size can be
told beforehand (a width, a repeat, a separator), it is checked before anything is
allocated. With every value bounded, writing one out, comparing two or turning one into
JSON is bounded too.

Each evaluation also has a budget of ``MAX_STEPS`` steps (loop turns, calls, filters)
and ``MAX_SECONDS`` of processor time, checked at every step: a template that is slow
without making anything big (comparing long lists in a loop) is stopped all the same.
This is the processor time of the evaluating thread, not the engine's ``Clock``: it
measures work, not the time of day, and a busy machine does not make it run out sooner.

Breaching a bound raises Jinja's ``SecurityError``; ``followup.language.sandbox`` turns it
into an ``ExpressionError`` that names the bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

MAX_TEXT = 100_000  # the weight of any value made, and the length of a rendered message
MAX_STEPS = 100_000  # loop turns, calls and filters in one evaluation
MAX_SECONDS = 1.0  # processor time for one evaluation
MAX_ARGUMENT = 1_000  # a number given to a filter (a width, an indent, a count)
MAX_BITS = 10_000  # the size of a whole number made by ** or *

_TEXT = (str, bytes, bytearray)
_ITEMS: tuple[type, ...] = (list, tuple, set, frozenset, type({}.keys()), type({}.values()),
                           type({}.items()))
_HOLDERS = (int, dict, *_ITEMS)


class _Budget:
    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.deadline = time.thread_time() + MAX_SECONDS


_BUDGET: ContextVar[_Budget | None] = ContextVar("followup_sandbox_budget", default=None)


def refused(message: str) -> Exception:
    """Jinja's ``SecurityError`` with ``message`` (imported here, not when this module
    is: a bound is breached only while a compiled expression runs, with Jinja loaded)."""
    from jinja2.exceptions import SecurityError

    return SecurityError(message)


def too_big(what: str) -> Exception:
    return refused(f"{what} is too big: a template or condition may make values of at "
                         f"most {MAX_TEXT:,} characters (or items)")


def spend(steps: int = 1) -> None:
    """Count work against the evaluation's budget; refuse once it is spent."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.steps -= steps
    if budget.steps < 0:
        raise refused(f"it takes more than {MAX_STEPS:,} steps (loop turns, calls and "
                            "filters): a template or condition must finish quickly")
    if time.thread_time() > budget.deadline:
        raise refused(f"it takes more than {MAX_SECONDS:g} second of work: a template "
                            "or condition must finish quickly")


@contextmanager
def budget() -> Iterator[None]:
    """One evaluation's budget of steps and time, for the code run inside."""
    token = _BUDGET.set(_Budget())
    try:
        yield
    finally:
        _BUDGET.reset(token)


def weight(value: Any, cap: int = MAX_TEXT) -> int:
    """How much ``value`` holds once written out (see the module's docstring); counting
    stops soon after ``cap``, so this costs at most about ``cap`` steps, whatever the value."""
    total = 0
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _TEXT):
            total += max(1, len(item))
        elif isinstance(item, bool) or not isinstance(item, _HOLDERS):
            total += 1  # None, a number, a date, a lazy iterator (weighed as it is consumed)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # about its decimal digits
        elif isinstance(item, dict):
            total += 1
            for key, inner in item.items():
                todo.append(key)
                todo.append(inner)
                if len(todo) > cap:
                    return cap + 1
        else:
            total += 1
            todo.extend(cast(Iterable[Any], item))
        if total + len(todo) > cap:
            return total + len(todo)
    return total


def made(value: Any, what: str) -> Any:
    """``value``, which an evaluation just made, if it is not too big; a lazy iterator
    comes back weighed item by item as it is consumed."""
    if isinstance(value, Iterator) and not isinstance(value, _TEXT):
        return metered(value, what)
    if weight(value) > MAX_TEXT:
        raise too_big(what)
    return value


def metered(items: Iterable[Any], what: str) -> Iterator[Any]:
    """``items``, refused once what they handed out weighs more than ``MAX_TEXT``."""
    total = 0
    for item in items:
        total += weight(item, MAX_TEXT - total)
        if total > MAX_TEXT:
            raise too_big(what)
        yield item


def counted(items: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, each turn counted against the budget."""
    for item in items:
        spend()
        yield item


def bounded_join(parts: Iterable[Any]) -> str:
    """``"".join`` that stops at ``MAX_TEXT``: a block, a macro, a rendered message."""
    out: list[str] = []
    total = 0
    for part in parts:
        text = str(part)
        total += len(text)
        if total > MAX_TEXT:
            raise too_big("the text")
        out.append(text)
    return "".join(out)


def check_percent(text: str) -> None:
    """``"%99999999s" % x``: a width or precision that would make a huge text."""
    for match in _SPEC.finditer(text):
        for number in match.groups():
            if number == "*" or (number and int(number) > MAX_TEXT):
                raise too_big(f"the format {match.group(0)!r}")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Before ``left operator right`` runs: what it would make."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (*_TEXT, list, tuple)) and isinstance(times, int) and (
                    times > 0 and weight(seq) * times > MAX_TEXT):
                raise too_big("a repeated text or list")
        if isinstance(left, int) and isinstance(right, int) and (
                left.bit_length() + right.bit_length() > MAX_BITS):
            raise too_big("a product")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_BITS:
            raise too_big("a power")
    elif operator == "+" and not isinstance(left, int | float):
        if weight(left) + weight(right) > MAX_TEXT:
            raise too_big("a joined text or list")
    elif operator == "%" and isinstance(left, str):
        check_percent(left)


def check_filter_call(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before one of Jinja's filters runs: the numbers it was given, and the sizes it would
    make where they can be told."""
    for value in (*args[1:], *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
            raise refused(f"the filter {name!r} was given {value}: numbers given to "
                                f"filters may be at most {MAX_ARGUMENT:,}")
    text = args[0] if args else ""
    if name == "format" and isinstance(text, str):
        check_percent(text)
    elif name == "indent" and isinstance(text, str):
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        lines = text.count("\n") + 1
        if len(text) + (len(width) if isinstance(width, str) else int(width)) * lines > MAX_TEXT:
            raise too_big("the indented text")
    elif name == "replace" and len(args) >= 3 and isinstance(text, str):
        _check_replace(text, str(args[1]), str(args[2]), args[3] if len(args) > 3 else -1)
    elif name == "tojson":
        indent = args[1] if len(args) > 1 else kwargs.get("indent")
        if isinstance(indent, int) and indent > 0:
            # Every item goes on a line of its own, indented once per level it is in.
            size = weight(text)
            if size > MAX_TEXT or size * (1 + _depth(text) * indent) > MAX_TEXT:
                raise too_big("the indented JSON")


def check_join(separator: Any, items: list[Any]) -> None:
    """Before ``separator.join(items)`` (a method or the ``join`` filter)."""
    size = weight(items) + weight(separator) * max(0, len(items) - 1)
    if size > MAX_TEXT:
        raise too_big("the joined text")


# Methods of text whose result can outgrow their inputs: checked before they run.
_WIDTH = frozenset({"ljust", "rjust", "center", "zfill"})


def check_method(owner: Any, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before ``owner.name(*args, **kwargs)`` runs, for the methods of text and numbers
    that could make far more than they were given."""
    if isinstance(owner, _TEXT):
        if name in _WIDTH:
            width = args[0] if args else kwargs.get("width", 0)
            if isinstance(width, int) and width > MAX_TEXT:
                raise too_big(f"the text {name}({width}) would make")
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            if isinstance(size, int) and len(owner) + tabs * max(0, size) > MAX_TEXT:
                raise too_big("the text expandtabs would make")
        elif name == "replace" and len(args) >= 2:
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            _check_replace(owner, args[0], args[1], count)
        elif name == "translate" and args:
            table = args[0]
            values = table.values() if isinstance(table, dict) else ()
            longest = max((weight(v) for v in values), default=1)
            if len(owner) * longest > MAX_TEXT:
                raise too_big("the translated text")
    elif isinstance(owner, int) and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int) and length > MAX_TEXT:
            raise too_big(f"to_bytes({length})")


def _check_replace(text: Any, old: Any, new: Any, count: Any) -> None:
    if not isinstance(old, _TEXT) or not isinstance(new, _TEXT) or type(old) is not type(text):
        return  # the method itself refuses mixed kinds
    hits = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * max(0, len(new) - len(old)) > MAX_TEXT:
        raise too_big("the replaced text")


def _depth(value: Any) -> int:
    """How deep lists and mappings nest in ``value`` (a value that passed ``weight``)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            todo.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, _ITEMS):
            todo.extend((inner, depth + 1) for inner in cast(Iterable[Any], item))
    return deepest


_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d*))?")
