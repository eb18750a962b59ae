"""A calendar with a country imports that country's holidays alone, not all 250.

``holidays`` imports every country when asked for one by name; the calendar loads the
one module it needs first (``_import_country``), which keeps a command's start short.
Mutants that lost the module's name or skipped loading it built the same calendar the
slow way and survived the timing room's mutation run (bench/MUTATION.md); what they
change is which modules are imported, which a fresh interpreter shows.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from followup.timing.calendar import WorkCalendar
from datetime import date
calendar = WorkCalendar(country="US")
assert calendar.holiday_name(date(2026, 7, 4)) is not None
print(sorted(m for m in sys.modules if m.startswith("holidays.countries")))
"""


def test_only_the_countrys_own_module_is_imported() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['holidays.countries.united_states']"
