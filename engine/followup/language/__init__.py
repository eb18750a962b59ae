"""The rule language: the YAML reader with line and column marks, the schema check, the
compiler from YAML to a ``RulePack``, and the sandbox its conditions and templates run in."""
