"""Time: the one clock, and the owner's working calendar (time zones, holidays, working
days, send windows, quiet hours, durations)."""
