"""The web pages' message catalogues: every string has a Khmer translation, placeholders match,
and the committed .mo files are the compiled .po files (run `python -m server.web.catalogs`)."""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo

from server.web import catalogs

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def extracted() -> list[str]:
    return catalogs.extract()


def test_every_page_string__has_a_khmer_translation(extracted: list[str]):
    km = catalogs.read_catalog("km")
    missing = [m for m in extracted if km.get(m) is None or not km.get(m).string]
    assert not missing, f"run `python -m server.web.catalogs` and translate: {missing}"


def test_khmer_translations__keep_the_placeholders():
    for message in catalogs.read_catalog("km"):
        if message.id and message.string:
            wanted = set(PLACEHOLDER.findall(message.id))
            assert set(PLACEHOLDER.findall(message.string)) == wanted, message.id


@pytest.mark.parametrize("lang", catalogs.LANGUAGES)
def test_committed_mo__is_the_compiled_po(lang: str):
    po = {m.id: m.string for m in catalogs.read_catalog(lang) if m.id}
    with catalogs.po_path(lang).with_suffix(".mo").open("rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert {k: v for k, v in po.items() if v} == {k: v for k, v in mo.items() if v}
