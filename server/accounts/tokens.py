"""Secret tokens for accounts (collector URLs, staff bearer tokens) and account names."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 48  # url-safe base64 of 48 bytes = 64 characters
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{64}$")
# Account labels such as PE07 or "case worker 2": they appear in lists and audit entries, so
# they are short plain ASCII, never a person's full name in Khmer script.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


def generate_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    # The token has 384 random bits: a fast unsalted hash is enough to keep it out of the DB,
    # and lookup by hash never compares the secret itself (no timing side channel).
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    """Checked before hashing, so junk never reaches the database."""
    return TOKEN_RE.match(token) is not None
