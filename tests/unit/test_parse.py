"""parse_submission: identity fields, safety (DTD, entities) and canonical hashing."""

from __future__ import annotations

import time

import pytest

from server import errors
from server.sync.parse import parse_submission

JAVAROSA = (
    b"<?xml version='1.0' encoding='UTF-8' ?><data xmlns:jr=\"http://openrosa.org/javarosa\" "
    b'xmlns:orx="http://openrosa.org/xforms" id="workplace_visit" version="2026112901">'
    b"<deviceid>collect:abc</deviceid><collector>PE07</collector><note>hello  world</note>"
    b"<photo>1700000000.jpg</photo>"
    b"<meta><instanceID>uuid:1111</instanceID><instanceName>visit</instanceName></meta></data>"
)
WEB_ENGINE = (
    b'<data version="2026112901" id="workplace_visit">\n  <deviceid>collect:abc</deviceid>\n'
    b"  <collector>PE07</collector>\n  <note>hello  world</note>\n"
    b"  <photo>1700000000.jpg</photo>\n"
    b"  <meta>\n    <instanceID>uuid:1111</instanceID>\n    <instanceName>visit</instanceName>\n"
    b"  </meta>\n</data>\n"
)


def test_parse__identity_fields():
    p = parse_submission(JAVAROSA)
    assert (p.xml_form_id, p.version, p.instance_id) == ("workplace_visit", "2026112901", "uuid:1111")
    assert p.instance_name == "visit"
    assert p.deprecated_id is None
    assert p.collector_code == "PE07"
    assert p.device_id == "collect:abc"
    assert not p.encrypted


def test_parse__javarosa_and_web_engine_serialisations_hash_equal():
    a, b = parse_submission(JAVAROSA), parse_submission(WEB_ENGINE)
    assert a.xml_sha256 != b.xml_sha256
    assert a.c14n_sha256 == b.c14n_sha256


def test_parse__answer_whitespace_is_not_normalised():
    changed = JAVAROSA.replace(b"hello  world", b"hello world")
    assert parse_submission(changed).c14n_sha256 != parse_submission(JAVAROSA).c14n_sha256


def test_parse__deprecated_id_and_namespaced_meta():
    xml = (
        b'<data xmlns="http://www.w3.org/2002/xforms" id="f" version="1"><a>1</a>'
        b"<meta><instanceID>uuid:new</instanceID><deprecatedID>uuid:old</deprecatedID></meta></data>"
    )
    p = parse_submission(xml)
    assert (p.instance_id, p.deprecated_id) == ("uuid:new", "uuid:old")


def test_parse__root_level_instance_id_fallback():
    assert parse_submission(b'<data id="f"><instanceID>uuid:x</instanceID></data>').instance_id == "uuid:x"


def test_parse__missing_version_is_empty():
    assert parse_submission(b'<data id="f"><meta><instanceID>u:1</instanceID></meta></data>').version == ""


def test_parse__referenced_files_are_leaf_texts_matching_part_names():
    p = parse_submission(JAVAROSA)
    assert p.referenced_files({"1700000000.jpg", "other.jpg"}) == {"1700000000.jpg"}


def test_parse__encrypted_envelope_by_local_name():
    xml = (
        b'<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="f" encrypted="yes" '
        b'version="1"><base64EncryptedKey>AAAA</base64EncryptedKey>'
        b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        b"<media><file>a.jpg.enc</file></media>"
        b"<base64EncryptedElementSignature>BBBB</base64EncryptedElementSignature>"
        b'<meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:e</instanceID></meta></data>'
    )
    p = parse_submission(xml)
    assert p.encrypted and p.instance_id == "uuid:e"
    assert p.referenced_files({"submission.xml.enc", "a.jpg.enc", "x"}) == {
        "submission.xml.enc",
        "a.jpg.enc",
    }


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><data id="f"><a>&lol9;</a><meta><instanceID>uuid:1</instanceID></meta></data>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<data id="f"><a>&x;</a><meta><instanceID>uuid:1</instanceID></meta></data>'
)
XXE_NET = (
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b'<data id="f"><meta><instanceID>uuid:1</instanceID></meta></data>'
)


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, XXE_NET], ids=["bomb", "xxe", "external-dtd"])
def test_parse__doctype_refused_fast(xml):
    start = time.perf_counter()
    with pytest.raises(errors.SubmissionUnsafeXml):
        parse_submission(xml)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    ("xml", "error"),
    [
        (b"", errors.SubmissionBadXml),
        (b"<data id='f'", errors.SubmissionBadXml),
        (b"not xml", errors.SubmissionBadXml),
        (b"<data><meta><instanceID>uuid:1</instanceID></meta></data>", errors.SubmissionNoFormId),
        (b"<data id='f'><meta><instanceID> </instanceID></meta></data>", errors.SubmissionNoInstanceId),
        (b"<data id='f'><a/></data>", errors.SubmissionNoInstanceId),
    ],
    ids=["empty", "truncated", "text", "no-form-id", "blank-instance-id", "no-instance-id"],
)
def test_parse__bad_input(xml, error):
    with pytest.raises(error):
        parse_submission(xml)
