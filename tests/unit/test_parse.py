"""parse_submission: identity fields, safety (DTD, entities) and canonical hashing."""

from __future__ import annotations

import time

import pytest

from server import errors
from server.sync.parse import parse_submission

I1 = b"uuid:11111111-1111-4111-8111-111111111111"
I2 = b"uuid:22222222-2222-4222-8222-222222222222"
I3 = b"uuid:33333333-3333-4333-8333-333333333333"
I4 = b"uuid:44444444-4444-4444-8444-444444444444"
I9 = b"uuid:99999999-9999-4999-8999-999999999999"
JAVAROSA = (
    b"<?xml version='1.0' encoding='UTF-8' ?><data xmlns:jr=\"http://openrosa.org/javarosa\" "
    b'xmlns:orx="http://openrosa.org/xforms" id="workplace_visit" version="2026112901">'
    b"<deviceid>collect:abc</deviceid><collector>PE07</collector><note>hello  world</note>"
    b"<photo>1700000000.jpg</photo>"
    b"<meta><instanceID>" + I1 + b"</instanceID><instanceName>visit</instanceName></meta></data>"
)
WEB_ENGINE = (
    b'<data version="2026112901" id="workplace_visit">\n  <deviceid>collect:abc</deviceid>\n'
    b"  <collector>PE07</collector>\n  <note>hello  world</note>\n"
    b"  <photo>1700000000.jpg</photo>\n"
    b"  <meta>\n    <instanceID>" + I1 + b"</instanceID>\n    <instanceName>visit</instanceName>\n"
    b"  </meta>\n</data>\n"
)


def test_parse__identity_fields():
    p = parse_submission(JAVAROSA)
    assert (p.xml_form_id, p.version, p.instance_id) == ("workplace_visit", "2026112901", I1.decode())
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
        b"<meta><instanceID>" + I2 + b"</instanceID><deprecatedID>" + I3 + b"</deprecatedID></meta></data>"
    )
    p = parse_submission(xml)
    assert (p.instance_id, p.deprecated_id) == (I2.decode(), I3.decode())


def test_parse__root_level_instance_id_fallback():
    xml = b'<data id="f"><instanceID>' + I4 + b"</instanceID></data>"
    assert parse_submission(xml).instance_id == I4.decode()


def test_parse__missing_version_is_empty():
    xml = b'<data id="f"><meta><instanceID>' + I9 + b"</instanceID></meta></data>"
    assert parse_submission(xml).version == ""


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
        b'<meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:55555555-5555-4555-8555-555555555555</instanceID></meta></data>'
    )
    p = parse_submission(xml)
    assert p.encrypted and p.instance_id == "uuid:55555555-5555-4555-8555-555555555555"
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
    + b']><data id="f"><a>&lol9;</a><meta><instanceID>' + I9 + b"</instanceID></meta></data>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<data id="f"><a>&x;</a><meta><instanceID>' + I9 + b"</instanceID></meta></data>"
)
XXE_NET = (
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b'<data id="f"><meta><instanceID>uuid:99999999-9999-4999-8999-999999999999</instanceID></meta></data>'
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
        (b"<data><meta><instanceID>" + I9 + b"</instanceID></meta></data>", errors.SubmissionNoFormId),
        (b"<data id='f'><meta><instanceID> </instanceID></meta></data>", errors.SubmissionNoInstanceId),
        (b"<data id='f'><a/></data>", errors.SubmissionNoInstanceId),
        (b"<data id='f'><meta><instanceID>uuid:Sokha 012 345 678</instanceID></meta></data>"
, errors.SubmissionBadInstanceId),
        (b"<data id='f'><meta><instanceID>11111111-1111-4111-8111-111111111111</instanceID>"
         b"</meta></data>", errors.SubmissionBadInstanceId),
        (b"<data id='f'><meta><instanceID>uuid:11111111-1111-4111-8111-111111111111x"
         b"</instanceID></meta></data>", errors.SubmissionBadInstanceId),
        (b"<data id='f'><meta><instanceID>uuid:11111111-1111-4111-8111-111111111111"
         b"</instanceID><deprecatedID>her old visit</deprecatedID></meta></data>",
         errors.SubmissionBadInstanceId),
    ],
    ids=["empty", "truncated", "text", "no-form-id", "blank-instance-id", "no-instance-id",
         "free-text-id", "no-uuid-prefix", "trailing-character", "free-text-deprecated-id"],
)
def test_parse__bad_input(xml, error):
    with pytest.raises(error) as raised:
        parse_submission(xml)
    assert "Sokha" not in str(raised.value.message) and "her old" not in str(raised.value.message)


def test_parse__instance_id_of_odk_clients_in_either_case_is_accepted():
    for iid in ("uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "uuid:0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"):
        xml = f"<data id='f'><meta><instanceID>{iid}</instanceID></meta></data>".encode()
        assert parse_submission(xml).instance_id == iid
