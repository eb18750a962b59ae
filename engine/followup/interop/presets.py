"""How the CSV files of other job trackers map onto followup's applications.

A preset names, for each field of an application, the column headers it may have in
that tracker's export (compared without regard to case or surrounding blanks), how its
statuses read as followup's states, and how its dates read: ISO 8601 only, or any
date ``python-dateutil`` understands, month first (``11/20/24, 8:15 AM``) or day first.
The trackers' own formats are not published as specifications, and they change: each
preset is our reading of the header lines of real exports, and ``--map COLUMN=FIELD``
corrects or completes it. A file that no preset reads is refused with its columns and
the preset that reads most of them (``nearest_preset``).

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

__all__ = ["FIELDS", "PRESETS", "Preset", "choose_preset", "nearest_preset"]

FIELDS = ("id", "company", "role", "state", "created_at", "contact", "contact_title",
          "contact_email", "contact_phone", "contact_role")
DATES = ("iso", "month-first", "day-first")  # how a preset's dates read
_BEFORE_INTERVIEW = ("wishlist", "bookmarked", "saved", "applying", "applied", "no response")


@dataclass(frozen=True)
class Preset:
    """One tracker's CSV export, as we read it."""

    name: str
    description: str
    columns: Mapping[str, tuple[str, ...]]  # field -> the headers it may have
    # lower-case status -> state ("" for the pack's initial state)
    statuses: Mapping[str, str] = field(default_factory=dict)
    # "iso": ISO 8601 only; "month-first" / "day-first": any date python-dateutil reads
    # (11/20/24, 8:15 AM; Nov 20, 2024), an ambiguous one read in that order
    dates: str = "iso"

    def __post_init__(self) -> None:
        if self.dates not in DATES:
            raise ValueError(f"preset {self.name!r}: dates must be one of {DATES}")

    def reads(self, header: Sequence[str]) -> list[str]:
        """The columns of ``header`` this preset reads."""
        known = {n.lower() for names in self.columns.values() for n in names}
        return [h for h in header if h.strip().lower() in known]

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
                near = nearest_preset(header)
                hint = (f"; its columns fit the preset {near.name!r} best: try --preset "
                        f"{near.name}" if near is not None and near is not self else "")
                raise InputError(f"{source}:1: no column holds the {needed} (the preset "
                                 f"{self.name!r} looks for: {looked}; the file's columns: "
                                 f"{', '.join(header)}){hint}; or name it with --map "
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
        _COMMON_STATUSES, "month-first",
    ),
    Preset(
        "huntr",
        "Huntr's job exports in their three known forms: id,title,companyName,listName,"
        "location,url,htmlDescription; Employer,Job Title,List,URL,Location,Salary,Date "
        "Saved,Notes; Title,Company,List,Date Added,Job Post Url. List is the board's "
        "column (Wishlist, Applied, Interview, Offer, Rejected)",
        {
            "id": ("id",),
            "company": ("companyname", "company", "company name", "employer"),
            "role": ("job title", "title", "position"),
            "state": ("listname", "list", "status", "stage"),
            "created_at": ("date applied", "date added", "date saved", "applied at",
                           "created at", "created"),
            "fact:interviewed_at": ("interview date",),
            "fact:location": ("location",),
            "fact:url": ("url", "job post url", "job url", "link"),
            "fact:salary": ("salary",),
            "fact:notes": ("notes", "description"),
        },
        _COMMON_STATUSES, "month-first",
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
        "month-first",
    ),
    Preset(
        "linkedin",
        "LinkedIn's data export: Jobs/Job Applications.csv (Application Date,Contact "
        "Email,Contact Phone Number,Company Name,Job Title,Job Url,Resume Name,Question "
        "And Answers) and Jobs/Saved Jobs.csv (Saved Date,Job Url,Job Title,Company Name); "
        "no status: an application sent or a job saved is not yet interviewed",
        {
            "company": ("company name",),
            "role": ("job title",),
            "created_at": ("application date", "saved date"),
            # No name column: the contact goes by their address.
            "contact": ("contact email",),
            "contact_email": ("contact email",),
            "contact_phone": ("contact phone number",),
            "fact:url": ("job url",),
            "fact:resume": ("resume name",),
        },
        _COMMON_STATUSES, "month-first",
    ),
)}


def nearest_preset(header: Sequence[str]) -> Preset | None:
    """The tracker's preset (not ``followup`` nor ``spreadsheet``) that reads the most
    columns of ``header``, the first on a tie; ``None`` when none reads any."""
    scored = [(len(p.reads(header)), p) for p in PRESETS.values()
              if p.name not in ("followup", "spreadsheet")]
    best = max(scored, key=lambda sp: sp[0], default=(0, None))
    return best[1] if best[0] else None


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
