"""The compiled pack's own checks: an application's contacts."""

from __future__ import annotations

import pytest

from followup import Contact, InputError, load_rules
from followup.language.pack import merge_contacts

PACK = load_rules()  # the default pack: interviewer, referral, reference, recruiter
JANE = Contact("Jane Doe", "interviewer", title="CTO")
BO = Contact("Bo Lee", "reference")


def test_merge_adds_in_order_and_replaces_only_when_asked() -> None:
    assert merge_contacts(PACK, [JANE], [BO]) == (JANE, BO)
    moved = Contact("Jane Doe", "interviewer", title="VP")
    assert merge_contacts(PACK, [JANE, BO], [moved], replace_existing=True) == (moved, BO)
    with pytest.raises(InputError) as info:
        merge_contacts(PACK, [JANE, BO], [moved])
    assert str(info.value) == (
        "two contacts are named 'Jane Doe': names must be unique within an application")
    with pytest.raises(InputError, match="two contacts are named 'Bo Lee'"):
        merge_contacts(PACK, [], [BO, BO])  # twice among the new ones too


def test_a_contact_needs_a_name_and_a_role_the_pack_defines() -> None:
    with pytest.raises(InputError) as info:
        merge_contacts(PACK, [], [Contact("  ", "interviewer")])
    assert str(info.value) == "a contact needs a name"
    with pytest.raises(InputError) as info:
        merge_contacts(PACK, [], [Contact("Jane Doe", "interviewr")])
    assert str(info.value) == (
        "contact 'Jane Doe' has the unknown role 'interviewr' (did you mean 'interviewer'?): "
        f"roles are {', '.join(PACK.roles)}")
    with pytest.raises(InputError) as info:
        merge_contacts(PACK, [], [Contact("Jane Doe", "")])
    assert str(info.value) == (
        f"contact 'Jane Doe' has the unknown role '': roles are {', '.join(PACK.roles)}")


def test_where_starts_every_message() -> None:
    for contacts in ([Contact("", "interviewer")], [Contact("Ann", "boss")], [JANE, JANE]):
        with pytest.raises(InputError, match=r"^apps\.json:3: "):
            merge_contacts(PACK, [], contacts, where="apps.json:3")
