"""Packages, routes, handovers and printed lists arrive with the packaging issue."""
