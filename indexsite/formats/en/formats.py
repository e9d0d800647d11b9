"""Dates and times in one format everywhere Django formats them (the admin's pages, forms):
ISO order with the time zone, as the lists, the journal and the API show them, not the
locale's "Dec. 6, 2026, 6:32 a.m."."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
TIME_FORMAT = "H:i:s"
