"""A compiled rule pack as plain JSON values, and back: the pack cache's format.

Only the pack's own record types are written and built again (a fixed list, by name);
anything else in an entry is an error, so decoding cannot be made to call other code.
Conditions and templates are written as their source and what was learnt when they were
checked; they come back compiled on first use, in the sandbox the pack is loaded with.
The encoding is canonical, so two packs compiled from the same files encode alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, time
from typing import Any

from followup.errors import Problem
from followup.language import pack as _pack
from followup.language._fastbuild import GiveUp, expression, template
from followup.language.expressions import Condition, Sandbox, Template
from followup.timing.calendar import Duration

__all__ = ["RECORDS", "decode", "encode"]

#: The record types an entry may hold, by name: the pack module's own dataclasses, the
#: durations and the problems (warnings) a pack holds. Nothing else is ever built.
RECORDS: dict[str, type] = {
    cls.__name__: cls
    for cls in [*vars(_pack).values(), Duration, Problem]
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
    and cls.__module__ in (_pack.__name__, Duration.__module__, Problem.__module__)
}


def encode(value: Any, *, fast: bool = True) -> Any:
    """``value`` as JSON values: records as ``{"$": name, field: ...}``. Conditions and
    templates carry their fast form (``_fastbuild``, False for none) unless ``fast`` is
    false: it follows from the source, so the pack's fingerprint leaves it out."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Condition):
        out = {"$": "Condition", "source": value.source, "names": sorted(value.names),
               "fields": {k: sorted(v) for k, v in sorted(value.fields.items())}}
        if fast:
            out["fast"] = _condition_form(value)
        return out
    if isinstance(value, Template):
        out = {"$": "Template", "source": value.source, "names": sorted(value.names),
               "contact_fields": sorted(value.contact_fields)}
        if fast:
            out["fast"] = _template_form(value)
        return out
    if type(value).__name__ in RECORDS and dataclasses.is_dataclass(value):
        out = {"$": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = encode(getattr(value, f.name), fast=fast)
        return out
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, fast=fast) for v in value]}
    if isinstance(value, frozenset):
        return {"$set": sorted((encode(v, fast=fast) for v in value), key=repr)}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, fast=fast), encode(v, fast=fast)]
                          for k, v in value.items()]}
    raise TypeError(f"a rule pack holds a {type(value).__name__}, which the cache cannot keep")


def _condition_form(condition: Condition) -> Any:
    if condition.fast is not None:
        return condition.fast
    from followup.language._fastconditions import condition_form

    return condition_form(condition.source) or False


def _template_form(template: Template) -> Any:
    if template.fast is not None:
        return template.fast
    from followup.language._fasttemplates import template_form

    return template_form(template.source) or False


def _fast_form(value: Any, build: Callable[[Any], object]) -> Any:
    """A fast form read back: False, or one ``build`` makes a closure of (one it gives
    up on is as good as none); anything else raises ``ValueError``."""
    if value is False:
        return False
    try:
        build(value)
    except GiveUp:
        return False
    return value


def decode(value: Any, sandbox: Sandbox) -> Any:
    """The value ``encode`` wrote; raises ``ValueError``, ``KeyError`` or ``TypeError``
    on anything it would not have written."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        raise ValueError("a bare list in a cached pack")
    if not isinstance(value, dict) or len(value) == 0:
        raise ValueError("not a cached pack's value")
    if "$" in value:
        name = value["$"]
        if name == "Condition":
            names = _names(value["names"])
            return Condition(source=_text(value["source"]), names=names,
                             _compiled=_Later(sandbox, value["source"], names, "condition"),
                             fields={_text(k): _names(v) for k, v in value["fields"].items()},
                             fast=_fast_form(value["fast"], expression))
        if name == "Template":
            names = _names(value["names"])
            later: Any = _Later(sandbox, value["source"], names, "template")
            return Template(source=_text(value["source"]), names=names,
                            _compiled=later,
                            contact_fields=_names(value["contact_fields"]),
                            fast=_fast_form(value["fast"], template))
        cls = RECORDS[name]
        wanted = {f.name for f in dataclasses.fields(cls)}
        given = {k: decode(v, sandbox) for k, v in value.items() if k != "$"}
        if set(given) != wanted:
            raise ValueError(f"a cached {name} with the fields {sorted(given)}")
        return cls(**given)
    (tag, inner), = value.items()
    if tag == "$time":
        return time.fromisoformat(_text(inner))
    if tag == "$date":
        return date.fromisoformat(_text(inner))
    if tag == "$tuple":
        return tuple(decode(v, sandbox) for v in inner)
    if tag == "$set":
        return frozenset(decode(v, sandbox) for v in inner)
    if tag == "$dict":
        return {decode(k, sandbox): decode(v, sandbox) for k, v in inner}
    raise ValueError(f"unknown tag {tag!r} in a cached pack")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text in a cached pack")
    return value


def _names(values: Any) -> frozenset[str]:
    return frozenset(_text(v) for v in values)


class _Later:
    """A condition's or template's compiled form, made when first used: the pack was
    checked when its entry was written, so a command that renders nothing compiles
    nothing. Compiling checks the source again, in this pack's sandbox, knowing the
    names it was found to use when it was first checked."""

    __slots__ = ("_kind", "_names", "_real", "_sandbox", "_source")

    def __init__(self, sandbox: Sandbox, source: str, names: frozenset[str], kind: str) -> None:
        self._sandbox, self._source, self._names, self._kind = sandbox, source, names, kind
        self._real: Any = None

    def _compiled(self) -> Any:
        if self._real is None:
            from followup.language.sandbox import compile_condition, compile_template

            if self._kind == "condition":
                self._real = compile_condition(self._source, known=self._names,
                                               sandbox=self._sandbox)._compiled
            else:
                self._real = compile_template(self._source, known=self._names,
                                              sandbox=self._sandbox)._compiled
        return self._real

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # a condition's expression
        return self._compiled()(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:  # a template
        return self._compiled().render(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy and pickle look for these before _real is set
            raise AttributeError(name)
        return getattr(self._compiled(), name)
