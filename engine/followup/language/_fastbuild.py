"""The fast forms of conditions and templates, and the closures made from them.

``_fastconditions`` and ``_fasttemplates`` read a condition's or template's source with
Jinja2's parser and write the shapes they know as a *fast form*: nested lists of JSON
values (so a compiled pack keeps them in its cache entry). This module turns a fast form
into a closure and imports no Jinja2, so a command whose pack comes from the cache
evaluates its conditions without loading Jinja2 at all.

A closure does exactly what the sandbox's generated code does for the shapes it knows,
and gives up (``GiveUp``) on anything else, at build time or when it meets a value it
does not handle; the sandbox then evaluates the whole expression, so results and errors
stay the sandbox's own. A fast form read from a cache entry is untrusted: one that is
not well formed raises ``ValueError`` (the entry is then not used), and none can do more
than read plain dicts of the context, compare, and do arithmetic on numbers.

Expressions::

    ["const", VALUE]            None, true/false, a number or text
    ["name", NAME]              a name of the context
    ["attr", EXPR, KEY]         x.key or x['key'] on a plain dict
    ["not", EXPR]  ["neg", EXPR]  ["and", A, B]  ["or", A, B]
    ["bin", OP, A, B]           add sub mul div floordiv mod, on numbers only
    ["compare", EXPR, [[OP, EXPR], ...]]   eq ne lt lteq gt gteq in notin
    ["test", "none" | "defined", EXPR]
    ["list", [EXPR, ...]]  ["tuple", [EXPR, ...]]

Templates: ``["block", [STATEMENT, ...]]``; a statement is ``["out", [PART, ...]]`` or
``["if", [[EXPR, BLOCK], ...], BLOCK]``; a part is ``["data", TEXT]``,
``["value", EXPR]`` or ``["cond", TEST, YES, NO]`` (``YES if TEST else NO``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from followup.language._bounds import bounded_join

__all__ = ["GiveUp", "expression", "template"]

Eval = Callable[[Mapping[str, Any]], Any]
Render = Callable[[Mapping[str, Any]], str]
_Write = Callable[[Mapping[str, Any], list[str]], None]


class GiveUp(Exception):
    """The fast path does not know this case: the sandbox decides."""


COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lteq": operator.le,
    "gt": operator.gt, "gteq": operator.ge,
    "in": lambda a, b: a in b, "notin": lambda a, b: a not in b,
}


def _numbers(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Arithmetic on numbers only: ``"x" * 10**9`` or ``"%9999999s" % x`` go to the
    sandbox, which bounds what they make."""
    def run(left: Any, right: Any) -> Any:
        if not (isinstance(left, int | float) and isinstance(right, int | float)):
            raise GiveUp("an operation on text or lists")
        return op(left, right)

    return run


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    name: _numbers(op) for name, op in (
        ("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
        ("div", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod))
}


def constant(value: Any) -> bool:
    """Whether ``value`` can stand in a fast form (a JSON scalar, not NaN or infinite)."""
    if value is None or type(value) in (bool, int, str):
        return True
    return type(value) is float and math.isfinite(value)


def _shape(tree: Any, kind: str, size: int) -> list[Any]:
    if not isinstance(tree, list) or len(tree) != size or tree[0] != kind:
        raise ValueError(f"not a fast form of {kind!r}: {tree!r:.80}")
    return tree


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not text in a fast form: {value!r:.80}")
    return value


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"not a list in a fast form: {value!r:.80}")
    return value


def expression(tree: Any) -> Eval:
    """The closure of an expression's fast form (``GiveUp`` if it cannot be one)."""
    kind = tree[0] if isinstance(tree, list) and tree else None
    if kind == "const":
        value = _shape(tree, kind, 2)[1]
        if not constant(value):
            raise ValueError(f"not a constant of a fast form: {value!r:.80}")
        return lambda ctx: value
    if kind == "name":
        name = _text(_shape(tree, kind, 2)[1])

        def load(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[name]
            except KeyError:
                raise GiveUp(name) from None  # undefined, or one of the sandbox's globals

        return load
    if kind == "attr":
        _, inner_tree, key_value = _shape(tree, kind, 3)
        return _lookup(expression(inner_tree), _text(key_value))
    if kind in ("not", "neg"):
        inner = expression(_shape(tree, kind, 2)[1])
        if kind == "not":
            return lambda ctx: not inner(ctx)
        return lambda ctx: -inner(ctx)
    if kind in ("and", "or"):
        _, a, b = _shape(tree, kind, 3)
        left, right = expression(a), expression(b)
        if kind == "and":
            return lambda ctx: left(ctx) and right(ctx)
        return lambda ctx: left(ctx) or right(ctx)
    if kind == "bin":
        _, name, a, b = _shape(tree, kind, 4)
        op = BINARY.get(_text(name))
        if op is None:
            raise ValueError(f"not an operator of a fast form: {name!r:.80}")
        left, right = expression(a), expression(b)
        return lambda ctx: op(left(ctx), right(ctx))
    if kind == "compare":
        _, first, ops = _shape(tree, kind, 3)
        return _compare(expression(first), [_operand(o) for o in _items(ops)])
    if kind == "test":
        _, name, inner_tree = _shape(tree, kind, 3)
        inner = expression(inner_tree)
        if name == "none":
            return lambda ctx: inner(ctx) is None
        if name == "defined":
            return lambda ctx: (inner(ctx), True)[1]  # found in the context: defined
        raise ValueError(f"not a test of a fast form: {name!r:.80}")
    if kind in ("list", "tuple"):
        items = [expression(item) for item in _items(_shape(tree, kind, 2)[1])]
        make = list if kind == "list" else tuple
        return lambda ctx: make(item(ctx) for item in items)
    raise ValueError(f"not a fast form: {tree!r:.80}")


def _operand(pair: Any) -> tuple[Callable[[Any, Any], Any], Eval]:
    if not isinstance(pair, list) or len(pair) != 2 or pair[0] not in COMPARE:
        raise ValueError(f"not a comparison of a fast form: {pair!r:.80}")
    return COMPARE[pair[0]], expression(pair[1])


def _lookup(inner: Eval, key: str) -> Eval:
    """``x.key`` or ``x['key']`` on a plain dict that has the key and no method of that
    name: the sandbox's getattr tries the attribute first, so anything else gives up."""
    if hasattr(dict, key):
        raise GiveUp(key)

    def lookup(ctx: Mapping[str, Any]) -> Any:
        value = inner(ctx)
        if type(value) is not dict or key not in value:
            raise GiveUp(key)
        return value[key]

    return lookup


def _compare(first: Eval, ops: list[tuple[Callable[[Any, Any], Any], Eval]]) -> Eval:
    def compare(ctx: Mapping[str, Any]) -> Any:
        # A chain, as Python (and so the sandbox's generated code) runs it: each operand
        # evaluated once, stopping at the first comparison that is false.
        left = first(ctx)
        result: Any = True
        for op, operand in ops:
            right = operand(ctx)
            result = op(left, right)
            if not result:
                return result
            left = right
        return result

    return compare


def template(tree: Any) -> Render:
    """The closure of a template's fast form; what it writes is bounded as the sandbox
    bounds a rendered text."""
    write = _block(tree)

    def render(context: Mapping[str, Any]) -> str:
        out: list[str] = []
        write(context, out)
        return bounded_join(out)

    return render


def _block(tree: Any) -> _Write:
    steps = [_statement(s) for s in _items(_shape(tree, "block", 2)[1])]

    def write(context: Mapping[str, Any], out: list[str]) -> None:
        for step in steps:
            step(context, out)

    return write


def _statement(tree: Any) -> _Write:
    kind = tree[0] if isinstance(tree, list) and tree else None
    if kind == "out":
        parts = [_part(p) for p in _items(_shape(tree, kind, 2)[1])]

        def output(context: Mapping[str, Any], out: list[str]) -> None:
            for part in parts:
                out.append(part(context))

        return output
    if kind == "if":
        _, branch_trees, else_tree = _shape(tree, kind, 3)
        branches = []
        for pair in _items(branch_trees):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"not a branch of a fast form: {pair!r:.80}")
            branches.append((expression(pair[0]), _block(pair[1])))
        otherwise = _block(else_tree)

        def choose(context: Mapping[str, Any], out: list[str]) -> None:
            for test, body in branches:
                if test(context):
                    body(context, out)
                    return
            otherwise(context, out)

        return choose
    raise ValueError(f"not a statement of a fast form: {tree!r:.80}")


def _part(tree: Any) -> Callable[[Mapping[str, Any]], str]:
    kind = tree[0] if isinstance(tree, list) and tree else None
    if kind == "data":
        data = _text(_shape(tree, kind, 2)[1])
        return lambda context: data
    if kind == "value":
        value = expression(_shape(tree, kind, 2)[1])
        return lambda context: _shown(value(context))
    if kind == "cond":
        _, t, y, o = _shape(tree, kind, 4)
        test, yes, no = expression(t), expression(y), expression(o)
        return lambda context: _shown(yes(context) if test(context) else no(context))
    raise ValueError(f"not a part of a fast form: {tree!r:.80}")


def _shown(value: Any) -> str:
    """How the sandbox writes ``value``: None as nothing, text, numbers and truth values
    as ``str`` writes them; anything else is left to it."""
    if value is None:
        return ""
    if type(value) in (str, int, float, bool):
        return str(value)
    raise GiveUp(type(value).__name__)
