"""Password hashing for web sign-in: argon2id at the production cost, 12 characters minimum."""

from __future__ import annotations

import pytest

from server import errors
from server.accounts import passwords


def test_production_hasher__is_argon2id_with_memory_hard_parameters():
    hasher = passwords.PRODUCTION_HASHER  # the suite swaps in a cheaper one (conftest.py)
    assert hasher.type.name == "ID" and hasher.memory_cost >= 64 * 1024 and hasher.time_cost >= 2
    encoded = hasher.hash("twelve chars!")
    assert encoded.startswith("$argon2id$")


def test_hash_password__refuses_fewer_than_12_characters():
    with pytest.raises(errors.PasswordTooShort):
        passwords.hash_password("elevenchars")
    assert passwords.hash_password("twelve chars").startswith("$argon2id$")


def test_verify__right_and_wrong_password_and_no_hash():
    encoded = passwords.hash_password("a long enough secret")
    assert passwords._verify(encoded, "a long enough secret")
    assert not passwords._verify(encoded, "a long enough secreT")
    assert not passwords._verify(None, "a long enough secret")
    assert not passwords._verify("not a hash", "a long enough secret")
    assert not passwords._verify(encoded, "x" * (passwords.MAX_PASSWORD_LENGTH + 1))


def test_setup_url__is_under_the_base_url():
    url = passwords.setup_url("https://s.example.org/", "T" * 64)
    assert url == "https://s.example.org/setup/" + "T" * 64
