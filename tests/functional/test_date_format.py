"""Dates on the admin's detail pages read as everywhere else: ISO order with the time zone."""

from __future__ import annotations

import re

from packages_app.services import projects, releases


def test_a_release_page_shows_its_date_in_the_index_format(admin_client, db):
    release = releases.create_release(projects.create_project("dated"), "1.0")
    page = admin_client.get(f"/admin/packages_app/release/{release.pk}/change/").content.decode()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", page), "no ISO date with its zone"
    assert "a.m." not in page
    assert "p.m." not in page
