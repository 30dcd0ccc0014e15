# Dates on pages (CONTRIBUTING.md, writing rules): 12月7日 within the year, no leading zero.
MONTH_DAY_FORMAT = "n月j日"
