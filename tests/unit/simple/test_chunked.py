"""``simple.chunked``: chunks changed by splices give what joining and compressing the rows anew gives."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from packages_app.pages import deflate, store
from packages_app.simple.chunked import Chunked


def _row(key: str, rng: random.Random):
    size = rng.randint(0, 40)
    return (
        key,
        b'{"k":"' + key.encode() + b'","x":"' + b"x" * size + b'"}',
        f"<a>{key}</a>".encode() + b"y" * rng.randint(0, 5),
    )


def _page(chunked: Chunked, form: str) -> tuple[bytes, bytes]:
    parts = chunked.json_parts() if form == "json" else chunked.html_parts()
    plain, zipped = deflate.framed(b"[" if form == "json" else b"<p>", parts, b"]" if form == "json" else b"</p>")
    return b"".join(plain), b"".join(zipped)


def _from_nothing(model: dict, spread: int) -> Chunked:
    fresh = Chunked(spread=spread)
    fresh.update(model.values())
    return fresh


@pytest.mark.parametrize("seed", range(12))
def test_random_splices_match_a_join_and_compress_as_a_build_from_nothing(seed):
    rng = random.Random(seed)  # noqa: S311 - a reproducible sequence, not a secret
    spread = rng.choice([2, 4, 16])
    chunked, model = Chunked(spread=spread), {}
    for _ in range(80):
        keys = [f"k{rng.randint(0, 200):03d}" for _ in range(rng.choice([1, 1, 1, 2, 30]))]
        if rng.random() < 0.3 and model:
            removed = rng.sample(sorted(model), min(len(model), rng.choice([1, 1, 20, 200])))
            chunked.update(removed=[*removed, "absent"])
            for key in removed:
                del model[key]
        else:
            rows = {key: _row(key, rng) for key in keys}
            chunked.update(rows.values())
            model.update(rows)
        rows = sorted(model.values())
        assert chunked.rows() == rows
        assert chunked.json_bytes == b",".join(row[1] for row in rows)
        assert chunked.html_bytes == b"".join(row[2] for row in rows)
        fresh = _from_nothing(model, spread)
        for form in ("json", "html"):
            plain, zipped = _page(chunked, form)
            assert gzip.decompress(zipped) == plain
            assert zlib.decompressobj(wbits=31).decompress(zipped) == plain
            # However the chunks were reached, the same compressed bytes.
            assert _page(fresh, form) == (plain, zipped)
        # And read back from the kept raw form.
        header, groups = chunked.to_raw()
        copies = [store.Group([memoryview(bytes(blob)) for blob in group.blobs], ("s", 0)) for group in groups]
        again = Chunked.from_raw(header, copies)
        assert again.rows() == rows
        chunked = again


def test_a_kept_page_costs_little_against_one_shot_compression():
    rng = random.Random(7)  # noqa: S311
    rows = [
        (f"{n:06d}", b'{"filename":"p-%d.whl","sha256":"%064x"}' % (n, rng.getrandbits(256)), b"<a>x</a>")
        for n in range(5000)
    ]
    chunked = Chunked(spread=64)
    chunked.update(rows)
    plain, zipped = _page(chunked, "json")
    assert len(chunked.chunks) > 20
    assert len(zipped) < 1.02 * len(deflate_one_shot(plain))


def deflate_one_shot(plain: bytes) -> bytes:
    from packages_app.pages import store

    return store.gzip_bytes(plain)


def test_an_empty_page_is_the_frame():
    chunked = Chunked()
    assert _page(chunked, "json")[0] == b"[]"
    assert gzip.decompress(_page(chunked, "json")[1]) == b"[]"
    chunked.update([("a", b"{}", b"<a>")])
    chunked.update(removed=["a"])
    assert chunked.chunks == []
