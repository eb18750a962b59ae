"""The name matcher: which spellings are one person, and which are two."""

from __future__ import annotations

import pytest

from followup import Contact, comparable_name, same_person
from followup.interop.names import look_alikes, merged_contact


@pytest.mark.parametrize(("a", "b"), [
    ("Dr. Jane Q. Doe", "Jane Doe"),
    ("jane doe", "JANE DOE"),
    ("Doe, Jane", "Jane Doe"),
    ("Doe, Jane Q., PhD", "Jane Doe"),
    ("Jane Doe, Jr.", "Jane Doe"),
    ("Jane Doe III", "Jane Doe"),
    ("Prof. Dr. Jane Doe MD", "Ms Jane Doe"),
    ("José Núñez", "Jose Nunez"),
    ("Zoë Brontë", "ZOE BRONTE"),
    ("Jose\u0301 Nunez", "José Nunez"),  # decomposed and composed accents
    ("Strauß", "STRAUSS"),  # case folding writes ß as ss
    ("Jane Q Doe", "Jane Doe"),
    ("Mary-Jane X. Watson", "mary-jane watson"),
    ("Dr. Doe", "Doe"),
])
def test_the_same_person(a: str, b: str) -> None:
    assert comparable_name(a) == comparable_name(b)
    assert same_person(a, b) and same_person(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("Jane Doe", "John Doe"),
    ("Jane Doe", "Jane Doering"),
    ("Jane Doe", "Jane Doe-Smith"),
    ("Łukasz Nowak", "Lukasz Nowak"),  # ł is a letter of its own, not l with a mark
    ("Søren Kierkegaard", "Soren Kierkegaard"),
    ("Đorđe Petrović", "Dorde Petrovic"),
    ("Łukasz Nowak", "Lukas Nowak"),
    ("J. Doe", "Jane Doe"),  # an initial for the given name could be anyone
    ("Doe Jane", "Jane Doe"),  # without the comma, no order is assumed
    ("Jane Ma", "Jane"),  # Ma is a family name here, not a Master of Arts
    ("Md Rahman", "Rahman"),
    ("ガクト", "カクト"),  # kana voicing marks change the sound
    ("王 小 明", "王 明"),  # one CJK character is a name, not an initial
])
def test_different_people(a: str, b: str) -> None:
    assert not same_person(a, b), (comparable_name(a), comparable_name(b))


def test_a_name_of_titles_only_keeps_them() -> None:
    assert comparable_name("Dr.") == "dr"
    assert not same_person("Dr.", "Ms.")
    assert comparable_name("  ") == ""


def test_look_alikes_pair_each_new_spelling_with_the_contact_it_spells() -> None:
    jane = Contact("Jane Doe", "interviewer", title="Engineering Manager")
    raj = Contact("Raj Patel", "interviewer")
    card = Contact("Dr. Jane Q. Doe", "interviewer", email="jane@acme.example")
    again = Contact("DOE, JANE", "interviewer")
    ann = Contact("Ann Lee", "reference")
    found = look_alikes([jane, raj], [card, Contact("Jane Doe", "interviewer"), ann, again])
    # The exact name updates Jane and is no look-alike; two spellings are.
    assert [(p.new.name, p.existing.name) for p in found] == [
        ("Dr. Jane Q. Doe", "Jane Doe"), ("DOE, JANE", "Jane Doe")]
    # Among new contacts alone (followup add): the second spelling looks like the first.
    [pair] = look_alikes([], [ann, Contact("Ann  LEE", "reference")])
    assert (pair.new.name, pair.existing) == ("Ann  LEE", ann)


def test_a_merged_contact_keeps_its_name_and_fields_and_fills_the_blanks() -> None:
    jane = Contact("Jane Doe", "recruiter", title="Engineering Manager")
    card = Contact("Dr. Jane Q. Doe", "interviewer", title="CTO", email="jane@acme.example",
                   name_parts=("Doe", "Jane", "Q.", "Dr.", ""))
    merged = merged_contact(jane, card)
    assert merged == Contact("Jane Doe", "interviewer", title="Engineering Manager",
                             email="jane@acme.example",
                             name_parts=("Doe", "Jane", "Q.", "Dr.", ""))
