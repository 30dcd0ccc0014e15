"""Hotlines, calls, tickets and the care ledger arrive with the hotline issue."""
