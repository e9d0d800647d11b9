"""The admin's release page: dates as everywhere else (ISO order with the time zone), and the
metadata as a person reads it."""

from __future__ import annotations

import re

from packages_app.services import projects, releases


def test_a_release_page_shows_its_date_in_the_index_format(admin_client, db):
    release = releases.create_release(projects.create_project("dated"), "1.0")
    page = admin_client.get(f"/admin/packages_app/release/{release.pk}/change/").content.decode()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", page), "no ISO date with its zone"
    assert "a.m." not in page
    assert "p.m." not in page


def test_a_release_page_shows_metadata_as_a_person_reads_it(admin_client, db):
    release = releases.create_release(
        projects.create_project("readable"),
        "1.0",
        {
            "summary": "Reads barometers",
            "description": "# Barometer\n\nReads **pressure**.\n",
            "description_content_type": "text/markdown",
            "classifiers": ["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
            "requires_dist": ["requests>=2", "pytest; extra == 'test'"],
            "requires_python": ">=3.11",
        },
    )
    page = admin_client.get(f"/admin/packages_app/release/{release.pk}/change/").content.decode()
    assert "<strong>Programming Language</strong>: Python :: 3" in page
    assert "Extra “test”" in page
    assert "<code>requests&gt;=2</code>" in page
    assert "<strong>pressure</strong>" in page  # the README rendered
    for empty in ("Obsoletes dist", "Supported platform", "Maintainer email", "Download url"):
        assert empty not in page, empty  # empty fields are not shown
