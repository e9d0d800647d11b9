"""``simple.joined``: splices give what joining the rows anew gives."""

from __future__ import annotations

import random

import pytest

from packages_app.simple.joined import Joined


def _expected(model: dict) -> tuple[bytes, str]:
    rows = sorted(model.values())
    return b",".join(row[2] for row in rows), "".join(row[3] for row in rows)


def _row(key: str, rng: random.Random):
    size = rng.randint(0, 12)
    return (key, f"id-{key}", b"{" + key.encode() + b"x" * size + b"}", f"<a>{key}</a>" + "y" * rng.randint(0, 5))


@pytest.mark.parametrize("seed", range(20))
def test_random_splices_match_a_join_of_the_rows(seed):
    rng = random.Random(seed)  # noqa: S311 - a reproducible sequence, not a secret
    joined, model = Joined(), {}
    for _ in range(120):
        keys = [f"k{rng.randint(0, 40):02d}" for _ in range(rng.choice([1, 1, 1, 2, 30]))]
        if rng.random() < 0.3 and model:
            removed = rng.sample(sorted(model), min(len(model), rng.choice([1, 1, 20])))
            joined.update(removed=removed + ["absent"])
            for key in removed:
                del model[key]
        else:
            rows = {key: _row(key, rng) for key in keys}
            joined.update(rows.values())
            model.update(rows)
        assert (joined.json, joined.html) == _expected(model)
        assert joined.keys == sorted(model)
        assert joined.rows() == sorted(model.values())
        for key, row in model.items():
            assert joined.html_of(key) == row[3]


def test_an_empty_list_joins_to_nothing():
    joined = Joined()
    assert (joined.json, joined.html, joined.rows()) == (b"", "", [])
    joined.update([("a", 1, b"{}", "<a>")])
    joined.update(removed=["a"])
    assert (joined.json, joined.html, len(joined)) == (b"", "", 0)
