import hashlib

from packages_app import hashing


def test_file_and_bytes_digests_agree_with_hashlib(tmp_path):
    data = b"wheel bytes" * 100_000
    path = tmp_path / "f.whl"
    path.write_bytes(data)
    expected = hashing.Digests(
        size=len(data),
        md5=hashlib.md5(data).hexdigest(),  # noqa: S324 - the digest PyPI records
        sha256=hashlib.sha256(data).hexdigest(),
        blake2_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
    )
    assert hashing.of_bytes(data) == expected
    assert hashing.of_file(path, chunk_size=4096) == expected
