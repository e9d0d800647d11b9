"""Every write to the index goes through a function in this package.

Each service runs in one transaction and writes exactly one journal entry
(see ``journal.record``), which also moves the project's ``last_serial``.
"""
