"""Whether two spellings of a name are one person: "Dr. Jane Q. Doe" and "Jane Doe".

A business card, a log from memory and a tracker's export spell the same person in
different ways. A contact's name is its identity within an application (the history and
the reminders name it), so a new spelling must not quietly become a second person with a
second thank-you reminder, nor be merged with someone else. ``comparable_name`` is the
form two spellings share when they differ only in

- honorifics before the name (``Dr.``, ``Prof.``, ``Mr.``, ``Ms.``, ``Mrs.``, ``Mx.`` ...)
  and post-nominals after it (``Jr.``, ``Sr.``, ``III``, ``PhD``, ``MD`` ...);
- single-letter middle initials, with or without a dot (``Jane Q. Doe``);
- case (Unicode case folding, so ``STRAUSS`` is ``Strauß``: folding makes ß ss);
- accents: the combining diacritical marks that compatibility decomposition (NFKD)
  separates from a letter (``José`` is ``Jose``, ``Zoë`` is ``Zoe``);
- the order "family name, given names" (``Doe, Jane``).

Everything else is a different name, on purpose, since merging two people is worse than
asking: letters that are letters of their own and not a letter with a mark (``ł`` is
not ``l``, ``ø`` not ``o``, ``đ`` not ``d``, ``æ`` not ``ae``; so ``Łukasz`` is not
``Lukasz``), a first initial for a given name (``J. Doe`` is not ``Jane Doe``), a
nickname, a changed or added family name (``Jane Doe-Smith``), and the marks of other
scripts that change the letter or its sound (kana voicing marks, Indic viramas and
nuktas, Hebrew and Arabic vowel points). A post-nominal that is also a family name
(``Ma``, ``Md``) is dropped only when a given and a family name remain before it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

from followup.model import Contact

__all__ = ["LookAlike", "comparable_name", "joined", "look_alikes", "merged_contact",
           "same_person"]

# Written before a name. Compared without dots and case.
HONORIFICS = frozenset({
    "dr", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "mstr", "sir", "dame",
    "rev", "revd", "hon", "herr", "frau", "mme", "mlle",
})
# Written after a name: generations, degrees, licences, honours.
POST_NOMINALS = frozenset({
    "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "dphil", "md", "dds", "dmd",
    "dvm", "do", "esq", "mba", "msc", "bsc", "ma", "ba", "mphil", "jd", "llm", "llb",
    "cpa", "pe", "rn", "pmp", "cfa", "frcs", "obe", "mbe", "cbe", "kbe",
})
# The combining diacritical marks of Latin, Greek and Cyrillic letters (and their
# extensions): what NFKD separates from an accented letter. Other scripts' marks stay.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_BREAKS = re.compile(r"[\s.]+")


def _folded(text: str) -> str:
    """``text`` without accents and case (see the module's docstring)."""
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize(
        "NFKD", text)).casefold())


def _words(text: str) -> list[str]:
    return [w for w in _BREAKS.split(_folded(text)) if w]


def _initial(word: str) -> bool:
    """One letter of a script with case: an initial (one CJK character is a name)."""
    return len(word) == 1 and word != word.upper()


def comparable_name(name: str) -> str:
    """The form of ``name`` that its other spellings share (see the module's docstring):
    ``comparable_name("Dr. Jane Q. Doe, PhD") == comparable_name("DOE, Jane") ==
    "jane doe"``. A name that is nothing but the words it would drop keeps them."""
    parts = [p for p in name.split(",") if _words(p)]
    # Parts after the first comma that hold only post-nominals ("Jane Doe, PhD, MBA")
    # are dropped; then two parts are "family, given".
    while len(parts) > 1 and all(w in POST_NOMINALS for w in _words(parts[-1])):
        parts.pop()
    if len(parts) == 2:
        parts.reverse()
    words = [w for p in parts for w in _words(p)]
    if not words:
        return " ".join(_words(name)) or _folded(name).strip()
    kept = list(words)
    while len(kept) > 1 and kept[0] in HONORIFICS:
        kept.pop(0)
    # A post-nominal can be a family name (Ma, Md): one goes only when a given and a
    # family name stay before it.
    while len(kept) > 2 and kept[-1] in POST_NOMINALS:
        kept.pop()
    if len(kept) > 2:  # middle initials: one letter between the first and last word
        kept = [kept[0], *(w for w in kept[1:-1] if not _initial(w)), kept[-1]]
    return " ".join(kept)


def same_person(a: str, b: str) -> bool:
    """Whether the names ``a`` and ``b`` differ at most in honorifics, post-nominals,
    middle initials, case, accents and "family, given" order (see
    ``comparable_name``). Symmetric; a name is always the same person as itself."""
    return a == b or comparable_name(a) == comparable_name(b)


@dataclass(frozen=True)
class LookAlike:
    """A new contact whose name is another spelling of a contact's already there."""

    new: Contact
    existing: Contact


def look_alikes(existing: Iterable[Contact], new: Sequence[Contact]) -> list[LookAlike]:
    """Each contact of ``new`` whose name is not among ``existing`` (nor an earlier one of
    ``new``) but is another spelling of one of them, with that one, in order. A new
    contact under an existing name exactly is no look-alike: it updates that contact."""
    known = list(existing)
    exact = {c.name for c in known}
    found: list[LookAlike] = []
    for contact in new:
        if contact.name not in exact:
            key = comparable_name(contact.name)
            match = next((c for c in known if comparable_name(c.name) == key), None)
            if match is not None:
                found.append(LookAlike(new=contact, existing=match))
                continue
        exact.add(contact.name)
        known.append(contact)
    return found


def merged_contact(existing: Contact, new: Contact) -> Contact:
    """``existing`` as updated by ``new``, another spelling of the same person: its name
    and every field it has are kept, its blank fields are filled from ``new``, and the
    role is ``new``'s (what the person says now)."""
    filled = {f.name: getattr(new, f.name) for f in fields(Contact)
              if f.name not in ("name", "role") and not getattr(existing, f.name)}
    return replace(existing, role=new.role, **filled)


def joined(new: Sequence[Contact], same: Sequence[LookAlike]) -> list[Contact]:
    """``new`` with each contact of ``same`` (look-alikes taken for the same person)
    replaced by the person it looked like, updated (``merged_contact``): once, where two
    new spellings of one person come together."""
    out: list[Contact] = []
    for contact in new:
        match = next((p.existing for p in same if p.new is contact), None)
        if match is None:
            out.append(contact)
            continue
        for i, earlier in enumerate(out):
            if earlier.name == match.name:
                out[i] = merged_contact(earlier, contact)
                break
        else:
            out.append(merged_contact(match, contact))
    return out
