"""The fast path of ``followup.language.conditions``: a condition's source parsed with
Jinja2's parser and compiled to a closure (see that module). Imported when the first
condition is evaluated.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import jinja2.nodes as n

__all__ = ["GiveUp", "compile_fast", "expression"]

_Eval = Callable[[Mapping[str, Any]], Any]


class GiveUp(Exception):
    """The fast path does not know this case: the sandbox decides."""


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
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


_BINARY: dict[type[n.Node], Callable[[Any, Any], Any]] = {
    kind: _numbers(op) for kind, op in (
        (n.Add, operator.add), (n.Sub, operator.sub), (n.Mul, operator.mul),
        (n.Div, operator.truediv), (n.FloorDiv, operator.floordiv), (n.Mod, operator.mod))
}
_PARSER = jinja2.Environment()  # parsing only: the grammar is the sandbox's


def compile_fast(source: str) -> _Eval | None:
    """A closure for ``source``, or None when it uses something not handled here."""
    try:
        template = _PARSER.parse("{{ (" + source + ") }}")
    except jinja2.TemplateSyntaxError:
        return None
    body = template.body
    if len(body) != 1 or not isinstance(body[0], n.Output) or len(body[0].nodes) != 1:
        return None
    try:
        return expression(body[0].nodes[0])
    except GiveUp:
        return None


def expression(node: n.Node) -> _Eval:
    if isinstance(node, n.Const):
        value = node.value
        return lambda ctx: value
    if isinstance(node, n.Name) and node.ctx == "load":
        name = node.name

        def load(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[name]
            except KeyError:
                raise GiveUp(name) from None  # undefined, or one of the sandbox's globals

        return load
    if isinstance(node, n.Getattr | n.Getitem):
        return _lookup(node)
    if isinstance(node, n.Not):
        inner = expression(node.node)
        return lambda ctx: not inner(ctx)
    if isinstance(node, n.Neg):
        inner = expression(node.node)
        return lambda ctx: -inner(ctx)
    if isinstance(node, n.And):
        left, right = expression(node.left), expression(node.right)
        return lambda ctx: left(ctx) and right(ctx)
    if isinstance(node, n.Or):
        left, right = expression(node.left), expression(node.right)
        return lambda ctx: left(ctx) or right(ctx)
    if type(node) in _BINARY:
        op = _BINARY[type(node)]
        left, right = expression(node.left), expression(node.right)  # type: ignore[attr-defined]
        return lambda ctx: op(left(ctx), right(ctx))
    if isinstance(node, n.Compare):
        return _compare(node)
    if isinstance(node, n.Test):
        return _test(node)
    if isinstance(node, n.List | n.Tuple):
        items = [expression(item) for item in node.items]
        make = list if isinstance(node, n.List) else tuple
        return lambda ctx: make(item(ctx) for item in items)
    raise GiveUp(type(node).__name__)


def _lookup(node: n.Getattr | n.Getitem) -> _Eval:
    """``x.key`` or ``x['key']`` on a plain dict that has the key and no method of that
    name: the sandbox's getattr tries the attribute first, so anything else gives up."""
    if isinstance(node, n.Getattr):
        key: Any = node.attr
    elif isinstance(node.arg, n.Const) and isinstance(node.arg.value, str):
        key = node.arg.value
    else:
        raise GiveUp("a computed index")
    if hasattr(dict, key):
        raise GiveUp(key)
    inner = expression(node.node)

    def lookup(ctx: Mapping[str, Any]) -> Any:
        value = inner(ctx)
        if type(value) is not dict or key not in value:
            raise GiveUp(key)
        return value[key]

    return lookup


def _compare(node: n.Compare) -> _Eval:
    first = expression(node.expr)
    ops = [(_COMPARE[o.op], expression(o.expr)) for o in node.ops if o.op in _COMPARE]
    if len(ops) != len(node.ops):
        raise GiveUp("an operator")

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


def _test(node: n.Test) -> _Eval:
    if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
        raise GiveUp("a test with arguments")
    inner = expression(node.node)
    if node.name == "none":
        return lambda ctx: inner(ctx) is None
    if node.name == "defined":
        return lambda ctx: (inner(ctx), True)[1]  # found in the context: defined
    raise GiveUp(node.name)
