"""The API's error answers (RFC 9457 problem details), as the API tests expect them."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    """``response`` is a problem of ``status``, never cached, with a title and a detail; its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert "no-store" in response["Cache-Control"]
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem
