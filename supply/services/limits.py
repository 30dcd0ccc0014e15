"""Limits shared by the supply services."""

CYCLE_DAYS = 3
ORDERING_HOURS = 36
MAX_QUANTITY = 99
MAX_LINES = 60
MAX_NOTE = 200
