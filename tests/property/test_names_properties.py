"""Properties of the name matcher (``followup.interop.names``): it is symmetric, a name
is always the same person as itself dressed in any titles, initials, case, accents and
order, and names with different family names are never the same person."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from followup.interop.names import HONORIFICS, POST_NOMINALS, comparable_name, same_person

# Words of a name: letters of several scripts, at least two (one letter is an initial).
_LETTERS = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzßłøæđ") + list("αβγδεζηθ") + list("абвгдежз")
    + list("王李张刘陈")
)
_WORD = st.text(_LETTERS, min_size=2, max_size=8).filter(
    lambda w: w.casefold() not in HONORIFICS | POST_NOMINALS)
_NAME = st.lists(_WORD, min_size=2, max_size=4)
_ACCENTS = st.sampled_from(["\u0301", "\u0300", "\u0308", "\u0302", "\u0303", "\u030c"])


@st.composite
def _dressed(draw: st.DrawFn, words: list[str]) -> str:
    """``words`` as a person might write them: titles, middle initials, case, accents,
    "family, given" order."""
    out = []
    for word in words:
        if draw(st.booleans()):
            word = word.upper() if draw(st.booleans()) else word.title()
        letters = []
        for ch in word:
            letters.append(ch)
            if draw(st.integers(0, 4)) == 0:  # an accent on some letters
                letters.append(draw(_ACCENTS))
        word = "".join(letters)
        if draw(st.booleans()):
            word = unicodedata.normalize("NFC", word)
        out.append(word)
    given_names, family = out[:-1], out[-1]
    initials = draw(st.lists(st.sampled_from(list("ABCQXJ")), max_size=2))
    middle = [i + draw(st.sampled_from(["", "."])) for i in initials]
    before = draw(st.lists(st.sampled_from(["Dr.", "Prof.", "Mr", "Ms.", "Mrs.", "Mx"]),
                           max_size=2))
    after = draw(st.lists(st.sampled_from(["PhD", "Jr.", "III", "MD", "Sr", "MBA"]),
                          max_size=2))
    if draw(st.booleans()):  # "Doe, Jane Q., PhD"
        text = f"{family}, {' '.join([*before, *given_names[:1], *middle, *given_names[1:]])}"
        return text + "".join(f", {a}" for a in after)
    core = [*before, *given_names[:1], *middle, *given_names[1:], family]
    if after and draw(st.booleans()):
        return " ".join(core) + "".join(f", {a}" for a in after)
    return " ".join([*core, *after])


@given(st.text(max_size=30), st.text(max_size=30))
def test_matching_is_symmetric(a: str, b: str) -> None:
    assert same_person(a, b) == same_person(b, a)
    assert same_person(a, a)


@given(_NAME.flatmap(lambda words: st.tuples(st.just(words), _dressed(words),
                                             _dressed(words))))
def test_a_name_is_itself_however_dressed(case: tuple[list[str], str, str]) -> None:
    words, one, other = case
    plain = " ".join(words)
    assert same_person(plain, one), (plain, one, comparable_name(one))
    assert same_person(one, other), (one, other)


@given(_NAME, _NAME, st.data())
def test_different_family_names_never_match(first: list[str], second: list[str],
                                            data: st.DataObject) -> None:
    while comparable_name(first[-1]) == comparable_name(second[-1]):
        second = [*second[:-1], second[-1] + "x"]
    one, other = data.draw(_dressed(first)), data.draw(_dressed(second))
    assert not same_person(one, other), (one, other)
