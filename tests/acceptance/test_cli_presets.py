"""``followup import --preset``: the CSV exports of other trackers, read through the
command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_linkedins_job_applications_with_their_dates(followup: Any, tmp_path: Path) -> None:
    followup("init", "--timezone", "America/New_York")
    rows = tmp_path / "Job Applications.csv"
    rows.write_text(
        "Application Date,Contact Email,Contact Phone Number,Company Name,Job Title,Job Url,"
        "Resume Name,Question And Answers\n"
        '"11/20/24, 8:15 AM",jane.doe@acme.example,,Acme Corp,Senior Software Engineer,'
        "https://www.linkedin.com/jobs/view/4081234567,resume.pdf,\n", encoding="utf-8")
    refused = followup("import", str(rows), expect=2)
    assert "--preset linkedin" in refused.stderr
    followup("import", str(rows), "--preset", "linkedin")
    [app] = followup("list", "--json").json()
    assert (app["company"], app["state"]) == ("Acme Corp", "interviewed")
    assert app["created_at"].startswith("2024-11-20T13:15")
