"""``python -m followup.cli``: the same as the ``followup`` command."""

import sys

from followup.cli import command

sys.exit(command())
