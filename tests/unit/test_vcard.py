"""Business cards: vCard 3.0 and 4.0 read as contacts and written back, losing nothing."""

from __future__ import annotations

import pytest

from followup import Contact
from followup.interop.vcard import (
    MAX_PHOTO,
    MAX_VALUE,
    VCardError,
    application_contacts,
    cards_to_contacts,
    contacts_to_vcard,
    read_vcards,
)
from followup.model import Application
from followup.store._codec import contacts_from_json, contacts_to_json

CARD_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Doe;Jane;Q.;Dr.;PhD\r\n"
    "FN:Jane Doe\r\n"
    "ORG:Acme\\, Inc.;Platform\r\n"
    "TITLE:Engineering Manager\r\n"
    "EMAIL;TYPE=INTERNET,WORK:jane@acme.example\r\n"
    "EMAIL;TYPE=HOME:jane@home.example\r\n"
    "TEL;TYPE=WORK,VOICE:+1 555 0100\r\n"
    "TEL;TYPE=CELL:+1 555 0199\r\n"
    "ADR;TYPE=WORK:;Suite 5;1 Main St;Springfield;IL;62701;USA\r\n"
    "NOTE:Met at the panel\\; likes Rust\\, Go\\nSecond line and a long one that goes \r\n"
    " on past seventy-five octets, so it was folded\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:MIICajCCAdOgAwIBAgICBEUwDQYJKoZIhvcNAQEEBQAwdzEL\r\n"
    " MAkGA1UEBhMCVVMxLDAqBgNVBAoTI05ldHNjYXBlIENvbW11bmljYXRpb25zIENvcnBvcmF0aW9u\r\n"
    "URL:https://acme.example\r\n"
    "END:VCARD\r\n"
)

CARD_40 = (
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "FN:Raj Patel\n"
    "N:Patel;Raj;;;\n"
    "TITLE:Staff Engineer\n"
    "ORG:Acme\n"
    'TEL;VALUE=uri;TYPE="voice,work":tel:+1-555-555-0101\n'
    "EMAIL;PREF=1:raj@acme.example\n"
    "END:VCARD\n"
)

JANE = Contact(
    name="Jane Doe", role="interviewer", title="Engineering Manager",
    email="jane@acme.example", phone="+1 555 0100",
    organization=("Acme, Inc.", "Platform"), name_parts=("Doe", "Jane", "Q.", "Dr.", "PhD"),
    address=("", "Suite 5", "1 Main St", "Springfield", "IL", "62701", "USA"),
    note="Met at the panel; likes Rust, Go\nSecond line and a long one that goes on past "
         "seventy-five octets, so it was folded",
    other_emails=("jane@home.example",), other_phones=("+1 555 0199",),
)


def _contacts(text: str | bytes, role: str | None = "interviewer") -> list[Contact]:
    return cards_to_contacts(read_vcards(text, source="cards.vcf"), role=role,
                             source="cards.vcf")


def test_a_30_card_reads_every_field() -> None:
    (card,) = read_vcards(CARD_30.encode(), source="cards.vcf")
    assert card.line == 1
    assert card.ignored == ("PHOTO", "URL")
    assert _contacts(CARD_30) == [JANE]


def test_a_40_card_reads_tel_uris_and_quoted_parameters() -> None:
    (raj,) = _contacts(CARD_40, role="reference")
    assert raj == Contact(name="Raj Patel", role="reference", title="Staff Engineer",
                          email="raj@acme.example", phone="+1-555-555-0101",
                          organization=("Acme",), name_parts=("Patel", "Raj", "", "", ""))


def test_quoted_printable_with_soft_breaks_and_a_charset() -> None:
    text = ("BEGIN:VCARD\r\nVERSION:2.1\r\n"
            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=\r\n=BCrgen\r\n"
            "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Caf=E9\r\n"
            "TEL;CELL:555\r\nEND:VCARD\r\n")
    (person,) = _contacts(text)
    assert person.name == "Jürgen Müller"  # no FN: made from N
    assert person.name_parts == ("Müller", "Jürgen", "", "", "")
    assert person.note == "Café"
    assert person.phone == "555"


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_card_to_contacts_to_card_keeps_every_field(version: str) -> None:
    contacts = _contacts(CARD_30 + CARD_40)
    written = contacts_to_vcard(contacts, version=version)
    again = _contacts(written, role=None)  # the role travels in X-FOLLOWUP-ROLE
    assert again == contacts
    assert contacts_to_vcard(again, version=version) == written
    assert all(len(line.encode()) <= 75 for line in written.split("\r\n"))
    assert written.endswith("END:VCARD\r\n") and "\n" not in written.replace("\r\n", "")


def test_folding_never_splits_a_character() -> None:
    contact = Contact(name="Zoë " + "é" * 80, role="referral", note="日本語" * 40)
    written = contacts_to_vcard([contact], version="4.0")  # 3.0 would add an N
    assert all(len(line.encode()) <= 75 for line in written.split("\r\n"))
    assert _contacts(written, role=None) == [contact]


def test_a_contact_without_n_gets_one_in_30_but_not_in_40() -> None:
    contact = Contact(name="Ann Lee", role="reference")
    assert "N:Lee;Ann;;;\r\n" in contacts_to_vcard([contact], version="3.0")
    assert "\r\nN:" not in contacts_to_vcard([contact], version="4.0")


def test_the_card_fields_survive_the_store_encoding() -> None:
    assert contacts_from_json(contacts_to_json((JANE,))) == (JANE,)
    plain = Contact("Raj Patel", "interviewer")
    assert contacts_to_json((plain,)) == (
        '[{"name":"Raj Patel","role":"interviewer","title":"","email":"","phone":""}]')


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("BEGIN:VCARD\nVERSION:3.0\nFN:Jane\n", "cards.vcf:1: the card begun here has no "
         "END:VCARD: the file is truncated"),
        ("BEGIN:VCARD\nVERSION:3.0\nFN Jane\nEND:VCARD\n", "cards.vcf:3: not a vCard line: "
         "'FN Jane' (expected NAME:VALUE"),
        ("BEGIN:VCARD\nFN:Jane\nEND:VCARD\n", "cards.vcf:1: the card begun here has no "
         "VERSION line"),
        ("BEGIN:VCARD\nVERSION:5.0\nFN:Jane\nEND:VCARD\n", "vCard version '5.0' is not read"),
        ("BEGIN:VCARD\nVERSION:3.0\nTITLE:Boss\nEND:VCARD\n", "cards.vcf:1: the card begun "
         "here has no name (FN or N)"),
        ("FN:Jane\n", "cards.vcf:1: FN stands outside a card"),
        ("BEGIN:VCARD\nVERSION:3.0\nBEGIN:VCARD\n", "cards.vcf:3: a card begins inside the "
         "card begun at line 1"),
        ("END:VCARD\n", "cards.vcf:1: END:VCARD without a BEGIN:VCARD"),
        ("", "cards.vcf:1: no card found"),
        ("BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nNOTE:" + "x" * (MAX_VALUE + 1) + "\nEND:VCARD\n",
         f"cards.vcf:4: NOTE is {MAX_VALUE + 1} characters long; at most {MAX_VALUE}"),
        ("BEGIN:VCARD\nVERSION:3.0\nF N:Jane\nEND:VCARD\n", "cards.vcf:3: 'F N' is not a "
         "property name"),
    ],
)
def test_a_malformed_card_names_the_line_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(VCardError) as caught:
        read_vcards(text.encode(), source="cards.vcf")
    assert problem in str(caught.value)


def test_bytes_that_are_not_utf8_are_named_by_line() -> None:
    data = b"BEGIN:VCARD\nVERSION:3.0\nFN:J" + b"\xe9r\xf4me\nEND:VCARD\n"
    with pytest.raises(VCardError, match=r"cards\.vcf:3: byte 0xe9 is not UTF-8"):
        read_vcards(data, source="cards.vcf")


def test_a_card_without_a_role_needs_one_chosen() -> None:
    with pytest.raises(VCardError, match=r"cards\.vcf:1: the card of 'Jane Doe' says no role"):
        _contacts(CARD_30, role=None)


def test_only_30_and_40_are_written() -> None:
    with pytest.raises(VCardError.__mro__[1], match=r"choose 3\.0 or 4\.0"):
        contacts_to_vcard([JANE], version="2.1")


PICTURE = ("MIICajCCAdOgAwIBAgICBEUwDQYJKoZIhvcNAQEEBQAwdzEL"
           "MAkGA1UEBhMCVVMxLDAqBgNVBAoTI05ldHNjYXBlIENvbW11bmljYXRpb25zIENvcnBvcmF0aW9u")


def test_a_photo_is_kept_only_when_asked_as_a_data_uri() -> None:
    (card,) = read_vcards(CARD_30, photos=True)
    assert card.contact.photo == f"data:image/jpeg;base64,{PICTURE}"
    assert card.ignored == ("URL",)
    assert read_vcards(CARD_30)[0].contact.photo == ""
    assert "photo" in card.contact.to_dict()
    assert "photo" not in JANE.to_dict()  # stored contacts without one are as they were
    assert Contact.from_dict(card.contact.to_dict()) == card.contact


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_kept_photo_round_trips(version: str) -> None:
    contacts = cards_to_contacts(read_vcards(CARD_30, photos=True), role="reference",
                                 source="cards.vcf")
    written = contacts_to_vcard(contacts, version=version)
    assert ("PHOTO;ENCODING=b;TYPE=JPEG:" if version == "3.0" else "PHOTO:data:image/jpeg;")\
        in written.replace("\r\n ", "")
    again = cards_to_contacts(read_vcards(written, photos=True), role=None, source="x")
    assert again == contacts


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("PHOTO;ENCODING=b;TYPE=PNG:" + "A" * (MAX_PHOTO + 4), "at most"),
        ("PHOTO;ENCODING=BASE64;TYPE=JPEG:not*base64", "not valid base64"),
        ("PHOTO:file:///etc/passwd", "neither a picture nor the address of one"),
    ],
)
def test_a_photo_too_large_or_unreadable_is_left_out_and_named(line: str, why: str) -> None:
    text = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\n{line}\r\nEND:VCARD\r\n"
    (card,) = read_vcards(text, photos=True)
    assert card.contact.photo == ""
    (ignored,) = card.ignored
    assert ignored.startswith("PHOTO (") and why in ignored


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_tel_uri_extension_stays_intact(version: str) -> None:
    text = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Lee\r\n"
            "TEL;VALUE=uri;TYPE=work:tel:+1-212-555-0124;ext=77\r\nEND:VCARD\r\n")
    (ann,) = _contacts(text)
    assert ann.phone == "+1-212-555-0124;ext=77"
    written = contacts_to_vcard([ann], version=version)
    assert "\\;" not in written
    assert ("TEL:+1-212-555-0124;ext=77\r\n" if version == "3.0"
            else "TEL;VALUE=uri:tel:+1-212-555-0124;ext=77\r\n") in written
    assert [c.phone for c in _contacts(written)] == [ann.phone]


def test_an_export_names_the_application_company_as_org() -> None:
    app = Application(id="a1", owner="me", company="Globex", role="SRE", state="applied",
                      contacts=(Contact("Ann Lee", "interviewer"), JANE))
    ann, jane = application_contacts([app])
    assert ann.organization == ("Globex",)
    assert jane.organization == ("Acme, Inc.", "Platform")  # what the card said stays
    assert "ORG:Globex\r\n" in contacts_to_vcard([ann])


def test_every_card_written_parses_with_vobject() -> None:
    vobject = pytest.importorskip("vobject")
    contacts = cards_to_contacts(read_vcards(CARD_30 + CARD_40, photos=True),
                                 role="interviewer", source="cards.vcf")
    for version in ("3.0", "4.0"):
        parsed = list(vobject.readComponents(contacts_to_vcard(contacts, version=version)))
        assert [p.fn.value for p in parsed] == [c.name for c in contacts]
