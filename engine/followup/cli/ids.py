"""An application named on the command line by its id or a unique start of it.

Ids are twelve random hex characters: nobody types them in full, and a tour that shows
one cannot be copied. Where a command takes an id, ``resolve`` also takes the start of
one, as git takes the start of a commit's hash: unique, it names that application;
shared, it is refused with the matches listed; matching none, it is refused with the
closest id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from followup.store import Store

__all__ = ["MAX_LISTED", "resolve"]

MAX_LISTED = 10  # matches an ambiguous start lists at most


def resolve(store: Store, text: str, *, owner: str) -> str:
    """The id of ``owner``'s application whose id is ``text`` or starts with it.

    Raises ``UnknownApplication`` when none matches, or when several do (listing them
    with their company and role, so the person sees which to take)."""
    from followup.errors import UnknownApplication, suggest

    try:
        return store.load(text, owner=owner).application.id
    except UnknownApplication:
        pass
    apps = store.applications(owner=owner, archived=None)  # an archived one is found too
    matches = [a for a in apps if text and a.id.startswith(text)]
    if len(matches) == 1:
        return matches[0].id
    if matches:
        listed = "; ".join(f"{a.id} ({a.role} at {a.company})" for a in matches[:MAX_LISTED])
        more = f"; and {len(matches) - MAX_LISTED} more" if len(matches) > MAX_LISTED else ""
        raise UnknownApplication(
            f"{text!r} is the start of {len(matches)} applications' ids: {listed}{more}; "
            "give more of the id")
    hint = suggest(text, [a.id for a in apps])
    raise UnknownApplication(
        f"no application {text!r}{hint} for owner {owner!r}: followup list shows your "
        "applications and their ids (the start of an id is enough when it is unique)")
