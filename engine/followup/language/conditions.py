"""Conditions evaluated fast: the common shapes compiled to Python closures, the rest left
to the sandbox.

Every ``Condition`` is compiled by ``followup.language.sandbox`` (Jinja2 under its immutable
sandbox), and that stays the one definition of what a condition means. But a Jinja2
expression builds a fresh template context on every call, which made conditions a large
share of the time of recording an event. The conditions rule packs are written with are
small: names, constants, ``count.interviewer``, comparisons, ``and``/``or``/``not`` and
``is none``. Those are compiled here, once per condition, to closures that do exactly
what the sandbox's generated code does for them: from the condition's fast form
(``_fastbuild``), which a pack from the cache carries, so no Jinja2 is imported, or else
read from its source now (``_fastconditions``).

Anything else (a filter, a call, an attribute of something that is not a plain dict, a
name the context lacks, a value that makes an operator fail) is not guessed at: the
closure gives up and the sandbox evaluates the whole condition again, so its result,
and its error message, are the sandbox's own.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from followup.language.expressions import Condition

__all__ = ["holds"]

_compiled: weakref.WeakKeyDictionary[Condition, Callable[[Mapping[str, Any]], Any] | None] = (
    weakref.WeakKeyDictionary())


def holds(condition: Condition, context: Mapping[str, Any]) -> bool:
    """``condition.holds(context)``, the same result and the same errors, faster."""
    try:
        fast = _compiled[condition]
    except KeyError:
        fast = _compiled[condition] = _fast(condition)
    if fast is not None:
        try:
            return bool(fast(context))
        except Exception:
            pass
    return condition.holds(context)


def _fast(condition: Condition) -> Callable[[Mapping[str, Any]], Any] | None:
    """The closure evaluating ``condition`` by its fast form (from the pack, or read
    from its source now), or None."""
    found = condition.fast
    if found is None:
        from followup.language._fastconditions import condition_form

        found = condition_form(condition.source)
    if not found:
        return None
    from followup.language._fastbuild import GiveUp, expression

    try:
        return expression(found)
    except (GiveUp, ValueError):
        return None
