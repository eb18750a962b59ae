"""Files in and out: other trackers' CSV and JSON, vCards, iCalendar, and pictures of a
rule pack (Mermaid, DOT, SVG)."""
