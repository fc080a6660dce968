# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""Submissions as Collect sends them: HEAD then POST, resends, split uploads, edits, bad input."""

from __future__ import annotations

import dataclasses
import io
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from server.db.models import Attachment, FormState, RejectedCopy, Submission, SubmissionVersion
from server.xforms.publish import FORMS_DIR, set_form_state
from tests.support.collect import CollectClient, message
from tests.support.fixtures import accounts, hook_calls, pe, village  # noqa: F401
from tests.support.instances import build_instance

MEDIA = {p.name: p.read_bytes() for p in (FORMS_DIR / "media").glob("*.csv")}


def fill(collect: CollectClient, form_id: str, **kwargs) -> bytes:
    """Fetch the list, download the form and its media (hash-checked), fill an instance."""
    entry = next(e for e in collect.form_list() if e.form_id == form_id)
    xform = collect.download_form(entry)
    media = {m.filename: collect.download_media(m) for m in collect.manifest(entry)}
    return build_instance(xform, media=media, **kwargs)


def count(db, model) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(model))


def assert_openrosa(response, status):
    assert response.status_code == status, response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Date"]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_head__204_with_budget(published_forms, pe, settings):
    response = pe.head()
    assert_openrosa(response, 204)
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == str(settings.max_submission_bytes)
    assert pe.request("GET", "submission").status_code == 204


@pytest.mark.parametrize(
    ("who", "form_id"),
    [("pe", "member_intake"), ("pe", "workplace_visit"), ("village", "village_data")],
)
def test_each_form__list_download_head_post__stored_once_even_sent_twice(
    published_forms, request, db, hook_calls, who, form_id
):
    collect = request.getfixturevalue(who)
    xml = fill(collect, form_id)
    first = collect.submit(xml)
    assert [r.status_code for r in first] == [201]
    assert message(first[0]) == "full submission upload was successful!"
    second = collect.submit(xml)
    assert [r.status_code for r in second] == [201]
    assert count(db, Submission) == 1 and count(db, SubmissionVersion) == 1
    with db.transaction() as s:
        version = s.scalars(select(SubmissionVersion)).one()
        assert version.xml == xml and version.device_id  # raw XML kept byte for byte
    assert len(hook_calls) == 1  # the merge hook runs for the new submission only


def test_resend__canonically_identical_xml_is_201_no_second_record(published_forms, pe, db):
    xml = fill(pe, "workplace_visit")
    assert pe.submit(xml)[0].status_code == 201
    web_engine = xml.replace(b"<?xml version='1.0' encoding='UTF-8'?>", b"").replace(b"><", b">\n<")
    assert pe.submit(web_engine)[0].status_code == 201
    assert count(db, SubmissionVersion) == 1 and count(db, RejectedCopy) == 0


def test_same_instance_id_different_xml__409_and_copy_kept(published_forms, pe, db):
    xml = fill(pe, "workplace_visit", answers={"note": "first"})
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = fill(pe, "workplace_visit", answers={"note": "first"}, instance_id=instance_id)
    other = fill(pe, "workplace_visit", answers={"note": "second"}, instance_id=instance_id)
    assert pe.submit(xml)[0].status_code == 201
    response = pe.submit(other)[0]
    assert_openrosa(response, 409)
    assert "already exists" in message(response)
    assert pe.submit(other)[0].status_code == 409
    with db.transaction() as s:
        copies = s.scalars(select(RejectedCopy)).all()
        assert [(c.instance_id, c.reason, c.xml) for c in copies] == [(instance_id, "conflict", other)]
        assert s.scalars(select(SubmissionVersion)).one().xml == xml


def test_attachments__split_upload_assembles_one_submission(published_forms, pe, db, settings):
    photos = {f"{i}.jpg": bytes([i]) * 400_000 for i in range(5)}
    xml = fill(pe, "workplace_visit", answers={"note": "0.jpg", "wp_landmark": "1.jpg"})
    # Refer to every file from some answer (our forms have no binary fields; any leaf counts).
    xml = xml.replace(b"</data>", b"".join(b"<p%d>%d.jpg</p%d>" % (i, i, i) for i in range(5)) + b"</data>")
    responses = pe.submit(xml, photos | {"unreferenced.bin": b"z"}, budget=1_000_000)
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert count(db, SubmissionVersion) == 1
    with db.transaction() as s:
        rows = s.scalars(select(Attachment)).all()
        assert sorted(a.filename for a in rows) == sorted(photos)
        for row in rows:
            stored = settings.data_dir / "attachments" / row.stored_name
            assert stored.read_bytes() == photos[row.filename]
            assert row.stored_name not in photos and "/" not in row.stored_name
    assert list((settings.data_dir / "tmp").iterdir()) == []


def test_resend__adds_missing_attachment(published_forms, pe, db):
    xml = fill(pe, "workplace_visit", answers={"note": "a.jpg", "wp_landmark": "b.jpg"})
    assert pe.submit(xml, {"a.jpg": b"A"})[0].status_code == 201
    assert pe.submit(xml, {"a.jpg": b"A", "b.jpg": b"B"})[0].status_code == 201
    with db.transaction() as s:
        assert sorted(a.filename for a in s.scalars(select(Attachment))) == ["a.jpg", "b.jpg"]
    assert count(db, SubmissionVersion) == 1


def test_edit__deprecated_id_creates_new_version(published_forms, pe, db, hook_calls):
    original = fill(pe, "member_intake", answers={"note": "a.jpg"})
    old_id = original.split(b"<instanceID>")[1].split(b"</instanceID>")[0].decode()
    assert pe.submit(original, {"a.jpg": b"A"})[0].status_code == 201
    edit = fill(pe, "member_intake", answers={"note": "a.jpg", "nicknames": "edited"}, deprecated_id=old_id)
    assert pe.submit(edit)[0].status_code == 201
    assert pe.submit(edit)[0].status_code == 201  # resend of the edit
    with db.transaction() as s:
        submission = s.scalars(select(Submission)).one()
        assert submission.review_state.value == "edited"
        versions = submission.versions
        assert [v.is_current for v in versions] == [False, True]
        assert versions[1].deprecated_id == old_id
        assert [a.filename for a in versions[1].attachments] == ["a.jpg"]  # carried forward
    assert len(hook_calls) == 2
    # Editing the superseded copy again: 409; unknown deprecatedID: 404.
    stale = fill(pe, "member_intake", answers={"nicknames": "stale"}, deprecated_id=old_id)
    assert_openrosa(pe.submit(stale)[0], 409)
    unknown = fill(pe, "member_intake", deprecated_id="uuid:66666666-6666-4666-8666-666666666666")
    assert_openrosa(pe.submit(unknown)[0], 404)
    assert count(db, SubmissionVersion) == 2


def test_closing_form_accepts__closed_form_refuses_with_message(published_forms, pe, db):
    xml = fill(pe, "workplace_visit")
    later = fill(pe, "workplace_visit")
    with db.transaction() as s:
        set_form_state(s, "workplace_visit", FormState.CLOSING)
    assert pe.submit(xml)[0].status_code == 201
    with db.transaction() as s:
        set_form_state(s, "workplace_visit", FormState.CLOSED)
    response = pe.submit(later)[0]
    assert_openrosa(response, 409)
    assert "closed" in message(response)
    assert count(db, SubmissionVersion) == 1


def _post_raw(collect: CollectClient, data=None, **kw):
    return collect.request("POST", "submission", data=data, **kw)


@pytest.fixture
def good_xml(published_forms, pe) -> bytes:
    return fill(pe, "workplace_visit")


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><data id="workplace_visit" version="2026112901"><a>&lol9;</a>'
    b"<meta><instanceID>uuid:b</instanceID></meta></data>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<data id="workplace_visit" version="2026112901"><a>&x;</a>'
    b"<meta><instanceID>uuid:x</instanceID></meta></data>"
)


def _with_instance_id(xml: bytes, new_id: bytes) -> bytes:
    start = xml.index(b"<instanceID>") + len(b"<instanceID>")
    return xml[:start] + new_id + xml[xml.index(b"</instanceID>"):]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no_openrosa_header", 400),
        ("malformed_xml", 400),
        ("bomb", 400),
        ("xxe", 400),
        ("no_instance_id", 400),
        ("no_form_id", 400),
        ("no_xml_part", 400),
        ("not_multipart", 400),
        ("broken_multipart", 400),
        ("free_text_instance_id", 400),
        ("overlong_instance_id", 400),
        ("free_text_deprecated_id", 400),
        ("unknown_form", 404),
        ("unknown_version", 404),
        ("form_of_other_role", 403),
        ("too_large", 413),
        ("unknown_token", 403),
    ],
)
def test_bad_input__clear_error_nothing_stored(
    good_xml, app, pe, village, client, db, settings, case, status
):
    version = good_xml.split(b'version="')[1].split(b'"')[0]
    body = {
        "malformed_xml": b"<data id='workplace_visit'><meta>",
        "bomb": BOMB,
        "xxe": XXE,
        "no_instance_id": b'<data id="workplace_visit" version="%s"><a>1</a></data>' % version,
        "no_form_id": b"<data><meta><instanceID>uuid:1</instanceID></meta></data>",
        "free_text_instance_id": _with_instance_id(good_xml, b"uuid:Sokha 012345678"),
        "overlong_instance_id": _with_instance_id(
            good_xml, b"uuid:" + b"a" * 8 + b"-aaaa-4aaa-8aaa-" + b"a" * 300),
        "free_text_deprecated_id": good_xml.replace(
            b"</instanceID>", b"</instanceID><deprecatedID>Sokha's visit</deprecatedID>"),
        "unknown_form": good_xml.replace(b'id="workplace_visit"', b'id="nope"'),
        "unknown_version": good_xml.replace(b'version="' + version, b'version="1999010101'),
    }.get(case, good_xml)
    collect = pe
    kwargs: dict = {}
    if case == "no_openrosa_header":
        kwargs["headers"] = {"Date": "x"}
    if case == "form_of_other_role":
        collect = village
    if case == "unknown_token":
        collect = CollectClient(client, "http://localhost/v1/key/" + "Z" * 64)
    start = time.perf_counter()
    if case == "no_xml_part":
        response = _post_raw(
            collect,
            {"photo.jpg": (io.BytesIO(b"x"), "photo.jpg")},
            content_type="multipart/form-data",
            **kwargs,
        )
    elif case == "not_multipart":
        response = _post_raw(collect, body, content_type="text/xml", **kwargs)
    elif case == "broken_multipart":
        response = _post_raw(
            collect,
            b'--zz\r\nContent-Disposition: form-data; name="xml_submission_file"\r\n\r\nabc',
            content_type="multipart/form-data; boundary=zz",
            **kwargs,
        )
    elif case == "too_large":
        app.config["SAHAKUM"] = dataclasses.replace(settings, max_submission_bytes=5_000)
        data = {
            "xml_submission_file": (io.BytesIO(body), "instance.xml", "text/xml"),
            "a.jpg": (io.BytesIO(b"x" * 6_000), "a.jpg"),
        }
        response = _post_raw(collect, data, content_type="multipart/form-data", **kwargs)
    else:
        data = {"xml_submission_file": (io.BytesIO(body), "instance.xml", "text/xml")}
        response = _post_raw(collect, data, content_type="multipart/form-data", **kwargs)
    assert time.perf_counter() - start < 1
    assert_openrosa(response, status)
    assert message(response)
    assert "Sokha" not in response.get_data(as_text=True)
    assert count(db, SubmissionVersion) == 0 and count(db, RejectedCopy) == 0
    assert count(db, Attachment) == 0


def test_hook_failure_does_not_fail_the_submission(published_forms, app, pe, db, caplog):
    def broken(_app, _sid):
        raise RuntimeError("secret answer text")

    app.extensions["sahakum_after_submission"].append(broken)
    assert pe.submit(fill(pe, "workplace_visit"))[0].status_code == 201
    assert count(db, Submission) == 1
    assert "RuntimeError" in caplog.text and "secret answer text" not in caplog.text


def test_server_bug__500_openrosa_message_without_payload_in_log(published_forms, pe, monkeypatch, caplog):
    from server.sync import intake

    def boom(*_a, **_k):
        raise RuntimeError("personal data in message")

    xml = fill(pe, "workplace_visit")
    monkeypatch.setattr(intake, "insert_new", boom)
    response = pe.submit(xml)[0]
    assert_openrosa(response, 500)
    assert "personal data" not in caplog.text and pe.server_url.rsplit("/", 1)[-1] not in caplog.text


def test_concurrent_identical_posts__one_submission(published_forms, app, pe, db):
    xml = fill(pe, "workplace_visit")
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def send():
        collect = CollectClient(app.test_client(), pe.server_url)
        barrier.wait()
        statuses.append(collect.post(xml).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 8
    assert count(db, Submission) == 1 and count(db, SubmissionVersion) == 1


def test_concurrent_edits_of_one_version__one_wins(published_forms, app, pe, db):
    original = fill(pe, "workplace_visit")
    old_id = original.split(b"<instanceID>")[1].split(b"</instanceID>")[0].decode()
    assert pe.submit(original)[0].status_code == 201
    edits = [
        fill(pe, "workplace_visit", answers={"note": f"edit {i}"}, deprecated_id=old_id) for i in range(6)
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(len(edits))

    def send(xml):
        collect = CollectClient(app.test_client(), pe.server_url)
        barrier.wait()
        statuses.append(collect.post(xml).status_code)

    threads = [threading.Thread(target=send, args=(x,)) for x in edits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 5
    with db.transaction() as s:
        assert (
            s.scalar(select(func.count()).select_from(SubmissionVersion).where(SubmissionVersion.is_current))
            == 1
        )


def test_older_published_version__accepted(published_forms, pe, db):
    import dataclasses

    from server.xforms.publish import publish_compiled

    old = published_forms["workplace_visit"]
    xml = fill(pe, "workplace_visit")  # filled from the version on the phone
    newer_version = str(int(old.version) + 1)
    newer = dataclasses.replace(
        old,
        version=newer_version,
        xml=old.xml.replace(f'version="{old.version}"'.encode(), f'version="{newer_version}"'.encode()),
    )
    with db.transaction() as s:
        publish_compiled(s, newer, FORMS_DIR / "media")
    assert next(e for e in pe.form_list() if e.form_id == "workplace_visit").version == newer_version
    assert pe.submit(xml)[0].status_code == 201
    assert count(db, SubmissionVersion) == 1
