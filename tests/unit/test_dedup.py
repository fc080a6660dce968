"""The dedup decision as a table of cases (design.md example 3)."""

from __future__ import annotations

import pytest

from server.sync.dedup import Incoming, Outcome, Stored, classify

A, B, CA, CB = "a" * 64, "b" * 64, "c" * 64, "d" * 64


def inc(xml: str = A, c14n: str = CA, dep: str | None = None, files: set[str] | None = None):
    return Incoming(xml, c14n, dep, frozenset(files or ()))


def st(xml: str = A, c14n: str = CA, current: bool = True, files: set[str] | None = None):
    return Stored(xml, c14n, current, frozenset(files or ()))


CASES = [
    ("new instanceID", inc(), None, None, Outcome.NEW),
    ("byte-identical resend", inc(), st(), None, Outcome.IDENTICAL),
    ("identical after canonicalisation", inc(xml=B), st(), None, Outcome.IDENTICAL),
    ("same bytes, stored c14n differs (never mind)", inc(c14n=CB), st(), None, Outcome.IDENTICAL),
    ("resend bringing a missing file", inc(files={"x.jpg"}), st(), None, Outcome.MORE_ATTACHMENTS),
    ("resend with files already held", inc(files={"x.jpg"}), st(files={"x.jpg"}), None, Outcome.IDENTICAL),
    ("same instanceID, different XML", inc(xml=B, c14n=CB), st(), None, Outcome.CONFLICT),
    ("different XML even with new files", inc(xml=B, c14n=CB, files={"y"}), st(), None, Outcome.CONFLICT),
    ("edit of the current version", inc(dep="uuid:old"), None, st(), Outcome.EDIT),
    ("edit of an unknown submission", inc(dep="uuid:old"), None, None, Outcome.DEPRECATED_UNKNOWN),
    (
        "edit of a superseded version",
        inc(dep="uuid:old"),
        None,
        st(current=False),
        Outcome.DEPRECATED_NOT_CURRENT,
    ),
    ("resend of an accepted edit", inc(dep="uuid:old"), st(), st(current=False), Outcome.IDENTICAL),
    (
        "edit reusing a stored instanceID with new XML",
        inc(xml=B, c14n=CB, dep="uuid:old"),
        st(),
        st(),
        Outcome.CONFLICT,
    ),
]


@pytest.mark.parametrize(
    ("incoming", "same_id", "deprecated", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_classify(incoming, same_id, deprecated, expected):
    assert classify(incoming, same_id, deprecated) is expected


def test_outcome_flags():
    assert {o for o in Outcome if o.stores_version} == {Outcome.NEW, Outcome.EDIT}
    assert not Outcome.CONFLICT.accepted
    assert Outcome.MORE_ATTACHMENTS.accepted
