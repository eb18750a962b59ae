"""The ``followup`` program keeps the compiled methods of its dataclasses in the cache
folder (followup.cli._codecache): the next command runs that code instead of compiling
the same texts again, and the classes it makes are the same as without the cache."""

from __future__ import annotations

import dataclasses
import inspect
import json
import marshal
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from followup.cli import _codecache
from followup.cli._codecache import ENTRY, CodeCache

SOURCE = '''
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Point:
    """A frozen record with a default, a factory and one annotation as text."""
    x: int
    y: "tuple[int, ...]" = field(default_factory=tuple)
    label: str = "p"
'''


def _make(cache: CodeCache | None) -> type:
    """The ``Point`` of SOURCE, made with ``cache`` given to dataclasses (or without)."""
    namespace: dict[str, object] = {"__name__": __name__}
    code = compile(SOURCE, "<made here>", "exec", dont_inherit=True)  # annotations as given
    if cache is None:
        exec(code, namespace)
    else:
        dataclasses.exec = cache.exec  # type: ignore[attr-defined]
        try:
            exec(code, namespace)
        finally:
            del dataclasses.exec  # type: ignore[attr-defined]
    made = namespace["Point"]
    assert isinstance(made, type)
    return made


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "code"


def _same_behaviour(plain: type, cached: type) -> None:
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        ours, theirs = getattr(cached, name), getattr(plain, name)
        assert ours.__code__.co_code == theirs.__code__.co_code, name
        assert ours.__annotations__ == theirs.__annotations__, name
    assert inspect.signature(cached) == inspect.signature(plain)
    a, b = cached(1), plain(1)
    assert repr(a) == repr(b) == "Point(x=1, y=(), label='p')"
    assert a == cached(1, (), "p") and hash(a) == hash(cached(1, (), "p")) == hash(b)
    assert a != cached(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 3  # type: ignore[attr-defined]
    assert dataclasses.replace(a, x=5).x == 5
    assert [f.name for f in dataclasses.fields(cached)] == ["x", "y", "label"]


def test_a_class_made_from_kept_code_is_the_same_as_one_compiled(folder: Path) -> None:
    first = CodeCache(folder)
    made = _make(first)
    assert first.compiled >= 6  # __init__, __repr__, __eq__, __hash__, two for frozen
    first.write()
    entry = folder / ENTRY
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    kept = marshal.loads(entry.read_bytes())
    assert len(kept) == first.compiled

    second = CodeCache(folder)
    again = _make(second)
    assert second.compiled == 0 and len(second.used) == first.compiled
    _same_behaviour(_make(None), again)
    _same_behaviour(_make(None), made)
    modified = entry.stat().st_mtime_ns
    second.write()  # nothing new: the entry is not written again
    assert entry.stat().st_mtime_ns == modified


def test_no_flags_of_the_cache_module_reach_the_code_it_compiles(folder: Path) -> None:
    # _codecache itself is compiled with `from __future__ import annotations`: were that
    # carried into the texts, the methods' annotations would turn into strings.
    plain, cached = _make(None), _make(CodeCache(folder))
    assert plain.__init__.__annotations__["x"] is int  # type: ignore[misc]
    assert cached.__init__.__annotations__ == plain.__init__.__annotations__  # type: ignore[misc]


@pytest.mark.parametrize("content", [
    b"",
    b"\x00\x01 not marshal",
    marshal.dumps([1, 2, 3]),
    marshal.dumps({"text": "not code"}),
    marshal.dumps({1: compile("pass", "<string>", "exec")}),
], ids=["empty", "damaged", "a list", "text to text", "a number key"])
def test_a_damaged_or_foreign_entry_is_a_miss_and_written_again(folder: Path,
                                                                content: bytes) -> None:
    folder.mkdir(mode=0o700)
    (folder / ENTRY).write_bytes(content)
    cache = CodeCache(folder)
    assert cache.codes == {}
    _make(cache)
    cache.write()
    assert len(marshal.loads((folder / ENTRY).read_bytes())) == cache.compiled > 0


def test_an_entry_others_may_write_is_not_read(folder: Path) -> None:
    first = CodeCache(folder)
    _make(first)
    first.write()
    os.chmod(folder, 0o777)
    try:
        assert CodeCache(folder).codes == {}
    finally:
        os.chmod(folder, 0o700)


def test_past_its_bound_nothing_more_is_kept_and_the_entry_keeps_what_was_used(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = {f"# an old text {i}\n": compile("pass", "<string>", "exec") for i in range(5)}
    folder.mkdir(mode=0o700)
    (folder / ENTRY).write_bytes(marshal.dumps(stale))
    monkeypatch.setattr(_codecache, "MAX_CODES", 7)
    full = CodeCache(folder)
    _same_behaviour(_make(None), _make(full))  # compiled past the bound, still the same
    assert len(full.codes) == 7 and full.full  # two new texts kept, the others not
    full.write()
    kept = marshal.loads((folder / ENTRY).read_bytes())
    assert set(kept) == full.used and len(kept) == 2 and not set(kept) & set(stale)

    refilled = CodeCache(folder)  # room again: the texts not kept are kept now
    _make(refilled)
    assert not refilled.full and refilled.compiled == len(refilled.used) - 2
    refilled.write()
    settled = CodeCache(folder)
    _make(settled)
    assert settled.compiled == 0 and not settled.full


def test_other_code_passes_through_unchanged(folder: Path) -> None:
    cache = CodeCache(folder)
    space: dict[str, object] = {}
    cache.exec(compile("x = 1", "<string>", "exec"), space)
    cache.exec("y = 2", space)
    assert space["x"] == 1 and space["y"] == 2 and cache.compiled == 1


# The program's entry, as the console script runs it, with `finish` wrapped to say what
# the cache compiled and ran; at exit it says whether dataclasses has its `exec` back.
_PROGRAM = """
import atexit, dataclasses, json, sys
from followup.cli import _codecache, command

seen = {}
real = _codecache.finish

def spy():
    if _codecache._installed:
        cache = _codecache._installed[-1]
        seen.update(compiled=cache.compiled, used=len(cache.used))
    real()

_codecache.finish = spy

@atexit.register
def report():
    seen["exec_back"] = not hasattr(dataclasses, "exec")
    print(json.dumps(seen))

sys.exit(command())
"""


def _program(args: list[str], cache: str) -> dict[str, int]:
    env = {**os.environ, "FOLLOWUP_CACHE_DIR": cache}
    done = subprocess.run([sys.executable, "-c", _PROGRAM, *args], capture_output=True,
                          text=True, check=False, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    seen: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_the_program_compiles_each_text_once_across_commands(tmp_path: Path) -> None:
    db, cache = str(tmp_path / "store.db"), str(tmp_path / "cache")
    made = _program(["--db", db, "--owner", "ada", "init", "--timezone", "UTC"], cache)
    assert made["compiled"] > 50 and made["exec_back"]  # the records and the rest
    first = _program(["--db", db, "--owner", "ada", "list"], cache)
    second = _program(["--db", db, "--owner", "ada", "list"], cache)
    assert second["compiled"] == 0 and second["used"] == first["used"] > 50
    assert (tmp_path / "cache" / "code" / ENTRY).is_file()

    off = _program(["--db", db, "--owner", "ada", "list"], "off")
    assert off == {"exec_back": True}  # nothing installed, nothing written


def test_help_reads_no_cache(tmp_path: Path) -> None:
    """``--help`` makes no dataclass: the program does not read the entry for it."""
    program = ("import atexit, sys\n"
               "from followup.cli import command\n"
               "atexit.register(lambda: print(sorted(m for m in sys.modules if m in "
               "('dataclasses', 'followup.cachefiles', 'followup.cli._codecache'))))\n"
               "sys.exit(command())\n")
    env = {**os.environ, "FOLLOWUP_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", program, "--help"], capture_output=True,
                          text=True, check=False, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert not (tmp_path / "cache").exists()


def test_an_exec_that_dataclasses_names_itself_is_left_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_CACHE_DIR", str(tmp_path / "cache"))

    def own(*args: object) -> None:
        raise AssertionError("not called here")

    monkeypatch.setattr(dataclasses, "exec", own, raising=False)
    assert _codecache.install() is None
    _codecache.finish()
    assert dataclasses.exec is own  # type: ignore[attr-defined]
