import pytest

from packages_app import tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pyidx_abc123_s3cr-et_x", ("abc123", "s3cr-et_x")),
        ("  pyidx_abc_secret  ", ("abc", "secret")),
        ("pypi-AgEIcHlwaS5vcmc", None),
        ("pyidx_", None),
        ("pyidx_abc_", None),
        ("pyidx__secret", None),
    ],
)
def test_split(text, expected):
    assert tokens.split(text) == expected


def test_generated_token_round_trips():
    new = tokens.generate()
    key_id, secret = tokens.split(new.plaintext)
    assert key_id == new.key_id
    assert tokens.secret_matches(secret, new.secret_hash)
