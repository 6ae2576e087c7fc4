"""Boards: memory maps, device wiring and boot protocols."""
