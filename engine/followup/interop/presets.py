"""How the CSV files of other job trackers map onto followup's applications.

A preset names, for each field of an application, the column headers it may have in
that tracker's export (compared without regard to case or surrounding blanks), how its
statuses read as followup's states, and the date formats it writes besides ISO 8601.
The trackers' own formats are not published as specifications, and they change: each
preset is our reading of that export, and ``--map COLUMN=FIELD`` corrects or completes it.

Fields: ``id``, ``company``, ``role``, ``state``, ``created_at``, ``contact`` (a name),
``contact_title``, ``contact_email``, ``contact_phone``, ``contact_role``, and
``fact:NAME`` for any fact (``fact:interviewed_at``). A status maps to a state of the
default pack; a status meaning "not yet interviewed" (a saved job, an application
sent) maps to the initial state, where, without an interview date, no reminder about
the interview arms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from followup.errors import InputError

__all__ = ["FIELDS", "PRESETS", "Preset", "choose_preset"]

FIELDS = ("id", "company", "role", "state", "created_at", "contact", "contact_title",
          "contact_email", "contact_phone", "contact_role")
_US_DATES = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%y")
_BEFORE_INTERVIEW = ("wishlist", "bookmarked", "saved", "applying", "applied", "no response")


@dataclass(frozen=True)
class Preset:
    """One tracker's CSV export, as we read it."""

    name: str
    description: str
    columns: Mapping[str, tuple[str, ...]]  # field -> the headers it may have
    # lower-case status -> state ("" for the pack's initial state)
    statuses: Mapping[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()

    def resolve(self, header: Sequence[str], mapping: Mapping[str, str],
                source: str) -> dict[str, str]:
        """Field -> the column of ``header`` that holds it; ``mapping`` (column -> field)
        wins. Raises ``InputError`` when a column or field is unknown, or no column
        holds the company or the role."""
        by_key = {h.strip().lower(): h for h in header}
        out: dict[str, str] = {}
        for fld, names in self.columns.items():
            for name in names:
                if name.lower() in by_key:
                    out[fld] = by_key[name.lower()]
                    break
        if self.name == "followup":
            out |= {h: h for h in header if h.startswith("fact:")}
        for column, fld in mapping.items():
            if column.strip().lower() not in by_key:
                raise InputError(f"{source}:1: --map names the column {column!r}, which the "
                                 f"header does not have (columns: {', '.join(header)})")
            if fld not in FIELDS and not (fld.startswith("fact:") and len(fld) > 5):
                raise InputError(f"--map {column}={fld}: {fld!r} is not a field; fields: "
                                 f"{', '.join(FIELDS)}, or fact:NAME")
            out = {f: c for f, c in out.items() if f != fld}
            out[fld] = by_key[column.strip().lower()]
        for needed in ("company", "role"):
            if needed not in out:
                looked = ", ".join(self.columns.get(needed, ())) or needed
                raise InputError(f"{source}:1: no column holds the {needed} (the preset "
                                 f"{self.name!r} looks for: {looked}); name it with --map "
                                 f"COLUMN={needed}")
        return out


def _statuses(mapping: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v or "" for k, v in mapping.items()}  # "": the pack's initial state


_COMMON_STATUSES = _statuses({
    **dict.fromkeys(_BEFORE_INTERVIEW),
    "interview": None, "interviewing": None, "interviewed": None,
    "thanked": "thanked", "followed up": "followed_up",
    "offer": "offer", "offered": "offer", "negotiating": "offer", "accepted": "offer",
    "rejected": "rejected", "declined": "rejected", "not selected": "rejected",
    "keep warm": "keep_warm",
})

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "followup",
        "followup's own export (followup export --csv): id, company, role, state, "
        "created_at, and fact:NAME for each fact",
        {f: (f,) for f in ("id", "company", "role", "state", "created_at")},
    ),
    Preset(
        "spreadsheet",
        "a spreadsheet kept by hand: Company, Role (or Position, Job Title), Status, "
        "Date Applied, Interview Date, Contact, Contact Title, Contact Email, Contact "
        "Phone, Notes, URL",
        {
            "company": ("company", "employer", "organization", "organisation"),
            "role": ("role", "position", "job title", "title", "job"),
            "state": ("status", "state", "stage"),
            "created_at": ("date applied", "applied on", "applied", "date"),
            "fact:interviewed_at": ("interview date", "interviewed", "interviewed at",
                                    "interview"),
            "contact": ("contact", "contact name", "interviewer"),
            "contact_title": ("contact title",),
            "contact_email": ("contact email", "email"),
            "contact_phone": ("contact phone", "phone"),
            "fact:notes": ("notes", "note"),
            "fact:url": ("url", "link", "job url"),
        },
        _COMMON_STATUSES, _US_DATES,
    ),
    Preset(
        "huntr",
        "Huntr's job export as we read it: Company, Job Title (or Title), List (the "
        "board's column: Wishlist, Applied, Interview, Offer, Rejected), Date Applied "
        "(or Created At), Location, URL, Notes",
        {
            "company": ("company", "company name", "employer"),
            "role": ("job title", "title", "position"),
            "state": ("list", "status", "stage"),
            "created_at": ("date applied", "applied at", "created at", "created"),
            "fact:interviewed_at": ("interview date",),
            "fact:location": ("location",),
            "fact:url": ("url", "job url", "link"),
            "fact:notes": ("notes", "description"),
        },
        _COMMON_STATUSES, _US_DATES,
    ),
    Preset(
        "teal",
        "Teal's job tracker export as we read it: Company, Job Position (or Job Title), "
        "Status (Bookmarked, Applying, Applied, Interviewing, Negotiating, Accepted, "
        "I Withdrew, Not Selected, No Response), Date Applied, Location, Job URL, Notes",
        {
            "company": ("company", "company name"),
            "role": ("job position", "job title", "position", "title"),
            "state": ("status", "stage"),
            "created_at": ("date applied", "date saved", "date created"),
            "fact:interviewed_at": ("interview date", "date interviewed"),
            "fact:location": ("location",),
            "fact:url": ("job url", "url"),
            "fact:notes": ("notes",),
        },
        _COMMON_STATUSES | {"i withdrew": "rejected", "withdrawn": "rejected"},
        _US_DATES,
    ),
)}


def choose_preset(name: str | None, header: Sequence[str]) -> Preset:
    """The preset called ``name``; without a name, ``followup`` for a header that
    followup's export wrote, else ``spreadsheet``."""
    if name is None:
        ours = {"id", "company", "role", "state", "created_at"}
        return PRESETS["followup" if ours <= {h.strip() for h in header} else "spreadsheet"]
    found = PRESETS.get(name)
    if found is None:
        raise InputError(f"no CSV preset named {name!r}: presets are {', '.join(PRESETS)}")
    return found
