# Dates on pages (CONTRIBUTING.md, writing rules): Dec. 7 within the year.
MONTH_DAY_FORMAT = "N j"
