"""Business cards: vCard files (RFC 2426 for 3.0, RFC 6350 for 4.0) read as contacts and
written back, with no dependency.

What is kept, per card: ``FN`` (the contact's name), ``N`` (its five parts), ``TITLE``,
``ORG`` (the company, then its units), every ``EMAIL`` and ``TEL`` (the first of each is
the contact's ``email`` and ``phone``), the first ``ADR`` (its seven parts) and ``NOTE``;
the first ``PHOTO`` too when the caller asks (``photos=True``) and it is no larger than
``MAX_PHOTO``, as a ``data:`` URI. A card exported by followup also carries
``X-FOLLOWUP-ROLE``, the contact's role. Other properties (``URL``, ``BDAY``, ...) and
parameters (``TYPE=work``) are read past and named in ``Card.ignored``, so the caller can
say what was left out.

Reading follows the RFCs where real files need it: lines folded with a space or a tab
are joined; ``\\n``, ``\\,``, ``\\;`` and ``\\\\`` are unescaped; structured values split
on unescaped ``;``; ``ENCODING=QUOTED-PRINTABLE`` (vCard 2.1, still written by some
phones into 3.0 files) is decoded, with its soft line breaks, in the ``CHARSET`` given;
``tel:`` URIs (4.0) become plain numbers, with their parameters (``;ext=77``) intact. Anything else that does not parse is a
``VCardError`` naming the file, the line and what was expected.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from followup.errors import InputError
from followup.interop._filetext import utf8
from followup.model import Application, Contact

__all__ = ["Card", "VCardError", "application_contacts", "cards_to_contacts",
           "contacts_to_vcard", "read_vcards"]

MAX_VALUE = 10_000  # characters in one kept value: a NOTE longer than this is refused
MAX_FILE = 16 * 1024 * 1024  # bytes: a contacts file this big is not a business card
# Characters of a kept PHOTO as a data: URI (about 48 KB of picture): a contact is stored
# as one JSON object, written again with every change to its application.
MAX_PHOTO = 64 * 1024
_VERSIONS = ("2.1", "3.0", "4.0")
_LINE_OCTETS = 75
_NAME = re.compile(r"^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)$")
_ROLE = "X-FOLLOWUP-ROLE"
_KEPT = {"FN", "N", "TITLE", "ORG", "EMAIL", "TEL", "ADR", "NOTE", _ROLE,
         "VERSION", "BEGIN", "END"}


class VCardError(InputError):
    """A vCard file that cannot be read: ``file:line: problem``."""


@dataclass(frozen=True)
class Card:
    """One card as read: the contact it describes (with the role from the card, or ""),
    the line its ``BEGIN:VCARD`` is on, and the properties not kept."""

    contact: Contact
    line: int
    ignored: tuple[str, ...] = ()


@dataclass
class _Line:
    number: int  # where it starts in the file, from 1
    name: str  # upper case, without its group
    params: dict[str, list[str]]
    value: str  # raw: still escaped


def read_vcards(data: bytes | str, *, source: str = "<vcard>",
                photos: bool = False) -> list[Card]:
    """Every card in ``data``, with its ``PHOTO`` when ``photos``; raises ``VCardError``
    at the first problem."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE:
            raise VCardError(f"{source}: the file is {len(data)} bytes; a vCard file of "
                             f"more than {MAX_FILE} bytes is refused: split it")
        text = utf8(data, source, error=VCardError,
                    how="most contacts apps export UTF-8")
    else:
        text = data
    cards: list[Card] = []
    current: list[_Line] | None = None
    begun = 0
    for line in _content_lines(text, source):
        if line.name == "BEGIN":
            if line.value.strip().upper() != "VCARD":
                raise VCardError(f"{source}:{line.number}: BEGIN:{line.value} is not a vCard "
                                 "(expected BEGIN:VCARD)")
            if current is not None:
                raise VCardError(f"{source}:{line.number}: a card begins inside the card "
                                 f"begun at line {begun}, which has no END:VCARD")
            current, begun = [], line.number
        elif line.name == "END":
            if current is None:
                raise VCardError(f"{source}:{line.number}: END:{line.value} without a "
                                 "BEGIN:VCARD before it")
            cards.append(_card(current, begun, source, photos=photos))
            current = None
        elif current is None:
            raise VCardError(f"{source}:{line.number}: {line.name} stands outside a card: "
                             "every property goes between BEGIN:VCARD and END:VCARD")
        else:
            current.append(line)
    if current is not None:
        raise VCardError(f"{source}:{begun}: the card begun here has no END:VCARD: the file "
                         "is truncated or not a vCard file")
    if not cards:
        raise VCardError(f"{source}:1: no card found (expected BEGIN:VCARD ... END:VCARD)")
    return cards


def cards_to_contacts(cards: Iterable[Card], *, role: str | None, source: str) -> list[Contact]:
    """The contacts of ``cards``, each with ``role`` (or, when ``None``, the role the card
    carries in ``X-FOLLOWUP-ROLE``, which it must then have)."""
    out = []
    for card in cards:
        chosen = role or card.contact.role
        if not chosen:
            raise VCardError(f"{source}:{card.line}: the card of {card.contact.name!r} says "
                             "no role: choose one for the cards, e.g. --role interviewer")
        out.append(replace(card.contact, role=chosen))
    return out


def _content_lines(text: str, source: str) -> Iterable[_Line]:
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(physical):
        start, raw = i + 1, physical[i]
        i += 1
        while i < len(physical) and physical[i][:1] in (" ", "\t"):
            raw += physical[i][1:]  # a folded line: drop the break and one blank
            i += 1
        if not raw.strip():
            continue
        line = _parse_line(raw, start, source)
        if _is_qp(line):
            # Quoted-printable's soft breaks end a line with "=" and go on unindented.
            while line.value.endswith("=") and i < len(physical):
                line.value = line.value[:-1] + physical[i].lstrip(" \t")
                i += 1
        yield line


def _parse_line(raw: str, number: int, source: str) -> _Line:
    head, value, quoted = [], None, False
    for pos, ch in enumerate(raw):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            value = raw[pos + 1 :]
            break
        head.append(ch)
    if value is None:
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        raise VCardError(f"{source}:{number}: not a vCard line: {shown!r} (expected "
                         "NAME:VALUE, such as FN:Jane Doe)")
    parts = _split_params("".join(head))
    match = _NAME.match(parts[0])
    if match is None:
        raise VCardError(f"{source}:{number}: {parts[0]!r} is not a property name (letters, "
                         "digits and '-', such as FN or EMAIL)")
    params: dict[str, list[str]] = {}
    for param in parts[1:]:
        key, sep, val = param.partition("=")
        if not sep:  # vCard 2.1 writes a bare type: TEL;WORK:...
            key, val = "TYPE", key
        params.setdefault(key.strip().upper(), []).extend(
            v.strip().strip('"') for v in _split_outside_quotes(val, ","))
    return _Line(number, match.group(1).upper(), params, value)


def _split_params(head: str) -> list[str]:
    return _split_outside_quotes(head, ";")


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out


def _is_qp(line: _Line) -> bool:
    return any(v.upper() == "QUOTED-PRINTABLE" for v in line.params.get("ENCODING", []))


def _card(lines: list[_Line], begun: int, source: str, *, photos: bool) -> Card:
    version = next((ln.value.strip() for ln in lines if ln.name == "VERSION"), None)
    if version is None:
        raise VCardError(f"{source}:{begun}: the card begun here has no VERSION line "
                         "(expected VERSION:3.0 or VERSION:4.0)")
    if version not in _VERSIONS:
        raise VCardError(f"{source}:{begun}: vCard version {version!r} is not read (versions "
                         f"read: {', '.join(_VERSIONS)})")
    text: dict[str, str] = {}  # FN, TITLE, NOTE, the role
    structured: dict[str, tuple[str, ...]] = {}  # N, ORG, ADR
    emails: list[str] = []
    phones: list[str] = []
    ignored: list[str] = []
    photo = ""
    for ln in lines:
        if ln.name == "PHOTO" and photos and not photo:
            photo, problem = _photo(ln)
            if problem:
                ignored.append(f"PHOTO ({problem})")
            continue
        if ln.name not in _KEPT:
            if ln.name not in ignored:
                ignored.append(ln.name)
            continue
        if ln.name == "VERSION":
            continue
        value = _text_value(ln, source)
        parts = tuple(_unescape(p) for p in _split_structured(value))
        one = _unescape(value)
        for shown in (*parts, one):
            if len(shown) > MAX_VALUE:
                raise VCardError(f"{source}:{ln.number}: {ln.name} is {len(shown)} characters "
                                 f"long; at most {MAX_VALUE} are read: shorten it")
        if ln.name in ("N", "ORG", "ADR"):
            if ln.name in structured:
                ignored.append(f"{ln.name} (after the first)")
            else:
                structured[ln.name] = _trimmed(parts, {"N": 5, "ORG": 0, "ADR": 7}[ln.name])
        elif ln.name == "EMAIL":
            if one.strip():
                emails.append(one.strip())
        elif ln.name == "TEL":
            number = one.strip()
            if number.lower().startswith("tel:"):
                number = number[4:]
            if number:
                phones.append(number)
        else:
            text[ln.name] = one if ln.name == "NOTE" else one.strip()
    name = text.get("FN", "") or _name_from_parts(structured.get("N", ()))
    if not name:
        raise VCardError(f"{source}:{begun}: the card begun here has no name (FN or N): "
                         "give it FN:Jane Doe")
    contact = Contact(
        name=name, role=text.get(_ROLE, ""), title=text.get("TITLE", ""),
        email=emails[0] if emails else "", phone=phones[0] if phones else "",
        organization=structured.get("ORG", ()), name_parts=structured.get("N", ()),
        address=structured.get("ADR", ()), note=text.get("NOTE", ""),
        other_emails=tuple(emails[1:]), other_phones=tuple(phones[1:]), photo=photo,
    )
    return Card(contact=contact, line=begun, ignored=tuple(ignored))


def _photo(ln: _Line) -> tuple[str, str]:
    """A PHOTO as a ``data:`` URI (or the address the card gives), or "" and why not."""
    value = "".join(ln.value.split())  # base64 may be folded with blanks
    encoding = {v.upper() for v in ln.params.get("ENCODING", [])}
    if encoding & {"B", "BASE64"}:  # 3.0 and 2.1: the picture itself, its type apart
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return "", "not valid base64"
        kinds = [t.lower() for t in ln.params.get("TYPE", []) if t.isalnum()]
        kind = kinds[0] if kinds else "jpeg"
        value = f"data:image/{'jpeg' if kind == 'jpg' else kind};base64,{value}"
    elif not value.lower().startswith(("data:", "http://", "https://")):
        return "", "neither a picture nor the address of one"
    if len(value) > MAX_PHOTO:
        return "", f"{len(value):,} characters; at most {MAX_PHOTO:,} are kept"
    return value, ""


def _text_value(ln: _Line, source: str) -> str:
    value = ln.value
    if _is_qp(ln):
        charset = (ln.params.get("CHARSET") or ["utf-8"])[0]
        try:
            value = quopri.decodestring(value.encode("ascii")).decode(charset)
        except (UnicodeError, LookupError, ValueError) as exc:
            raise VCardError(f"{source}:{ln.number}: {ln.name}: the quoted-printable value "
                             f"cannot be read as {charset}: {exc}") from None
    return value


def _split_structured(value: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return out


_UNESCAPE = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in _UNESCAPE:
            out.append(_UNESCAPE[value[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _trimmed(parts: Sequence[str], width: int) -> tuple[str, ...]:
    """Parts padded to ``width`` (for N and ADR), or () when all are empty."""
    values = [p.strip() for p in parts]
    if width:
        values = (values + [""] * width)[: max(width, len(values))]
    return tuple(values) if any(values) else ()


def _name_from_parts(parts: Sequence[str]) -> str:
    if not parts:
        return ""
    family, given, additional, prefix, suffix = (list(parts) + [""] * 5)[:5]
    return " ".join(p for p in (prefix, given, additional, family, suffix) if p)


# -- writing -----------------------------------------------------------------------------


def application_contacts(apps: Iterable[Application]) -> list[Contact]:
    """The contacts of ``apps``, each with its application's company as ``organization``
    when its card names none, so an exported card says where the person works."""
    return [c if c.organization or not a.company else replace(c, organization=(a.company,))
            for a in apps for c in a.contacts]


def contacts_to_vcard(contacts: Iterable[Contact], *, version: str = "3.0") -> str:
    """``contacts`` as a vCard file (CRLF line endings, folded at 75 octets); each card
    carries the contact's role as ``X-FOLLOWUP-ROLE``."""
    if version not in ("3.0", "4.0"):
        raise InputError(f"vCard version {version!r} is not written: choose 3.0 or 4.0")
    lines: list[str] = []
    for c in contacts:
        lines += ["BEGIN:VCARD", f"VERSION:{version}", f"FN:{_escape(c.name)}"]
        parts = c.name_parts
        if not parts and version == "3.0":  # N is required in 3.0
            given, _, family = c.name.rpartition(" ")
            parts = (family, given, "", "", "")
        if parts:
            lines.append("N:" + ";".join(_escape(p) for p in (list(parts) + [""] * 5)[:5]))
        if c.title:
            lines.append(f"TITLE:{_escape(c.title)}")
        if c.organization:
            lines.append("ORG:" + ";".join(_escape(p) for p in c.organization))
        for email in (c.email, *c.other_emails) if c.email else c.other_emails:
            lines.append(f"EMAIL:{_escape(email)}")
        for phone in (c.phone, *c.other_phones) if c.phone else c.other_phones:
            lines.append(_tel(phone, version))
        if c.address:
            lines.append("ADR:" + ";".join(_escape(p) for p in (list(c.address) + [""] * 7)[:7]))
        if c.note:
            lines.append(f"NOTE:{_escape(c.note)}")
        if c.photo:
            lines.append(_photo_line(c.photo, version))
        lines += [f"{_ROLE}:{_escape(c.role)}", "END:VCARD"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def _tel(phone: str, version: str) -> str:
    """A TEL line. A number is not text: its ``;ext=77`` (a ``tel:`` URI's parameter) is
    written as it is, in 4.0 as the URI itself."""
    phone = " ".join(phone.split())
    if ";" in phone and version == "4.0":
        return f"TEL;VALUE=uri:tel:{phone.replace(' ', '')}"
    if ";" in phone:
        return f"TEL:{phone}"
    return f"TEL:{_escape(phone)}"


def _photo_line(photo: str, version: str) -> str:
    """A PHOTO line: 4.0 takes the URI; 3.0 the picture in base64, or the address."""
    if version == "4.0":
        return f"PHOTO:{photo}"
    match = re.match(r"data:image/([A-Za-z0-9.+-]+);base64,(.*)$", photo, re.DOTALL)
    if match:
        return f"PHOTO;ENCODING=b;TYPE={match.group(1).upper()}:{match.group(2)}"
    return f"PHOTO;VALUE=uri:{photo}"


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> str:
    """A line cut into pieces of at most 75 octets, never inside a character."""
    if len(line.encode("utf-8")) <= _LINE_OCTETS:
        return line
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        limit = _LINE_OCTETS if not pieces else _LINE_OCTETS - 1  # the blank counts
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)
