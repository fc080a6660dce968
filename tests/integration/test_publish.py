"""Publishing: versions are rows, unchanged forms add none, a changed form must raise its version."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import Form, FormMedia, FormState, FormVersion, MediaKind
from server.xforms.compile import CompiledForm, inspect_xform
from server.xforms.publish import (
    FORMS_DIR,
    GENERATED_MEDIA,
    PublishStatus,
    publish_compiled,
    set_form_state,
    version_key,
)

MEDIA = FORMS_DIR / "media"


def _changed(compiled: CompiledForm, version: str | None = None) -> CompiledForm:
    """The same form with one label changed (and optionally a new version)."""
    xml = compiled.xml.replace(b"<h:title>", b"<h:title>X ", 1)
    if version is not None:
        xml = xml.replace(f'version="{compiled.version}"'.encode(), f'version="{version}"'.encode(), 1)
    changed = inspect_xform(xml)
    assert changed.md5 != compiled.md5
    return changed


def _version_count(session: Session, xml_form_id: str) -> int:
    return (
        session.scalar(select(func.count(FormVersion.id)).join(Form).where(Form.xml_form_id == xml_form_id))
        or 0
    )


@pytest.mark.parametrize("form_id", ["member_intake", "workplace_visit", "village_data"])
def test_publish_twice__second_time_unchanged_and_no_new_version(
    session: Session, compiled_forms: dict[str, CompiledForm], form_id: str
) -> None:
    compiled = compiled_forms[form_id]
    first = publish_compiled(session, compiled, MEDIA)
    second = publish_compiled(session, compiled, MEDIA)
    assert first.status is PublishStatus.CREATED
    assert second.status is PublishStatus.UNCHANGED
    assert _version_count(session, form_id) == 1


def test_publish_changed_form_same_version__refused_and_nothing_stored(
    session: Session, compiled_forms: dict[str, CompiledForm]
) -> None:
    compiled = compiled_forms["workplace_visit"]
    publish_compiled(session, compiled, MEDIA)
    session.commit()
    with pytest.raises(errors.FormVersionNotIncreased):
        publish_compiled(session, _changed(compiled), MEDIA)
    session.rollback()
    assert _version_count(session, "workplace_visit") == 1
    stored = session.scalars(select(FormVersion)).one()
    assert stored.md5 == compiled.md5


def test_publish_changed_form_lower_version__refused(
    session: Session, compiled_forms: dict[str, CompiledForm]
) -> None:
    compiled = compiled_forms["village_data"]
    publish_compiled(session, compiled, MEDIA)
    lower = str(int(compiled.version) - 1)
    with pytest.raises(errors.FormVersionNotIncreased):
        publish_compiled(session, _changed(compiled, lower), MEDIA)


def test_publish_changed_form_higher_version__new_version_and_old_kept(
    session: Session, compiled_forms: dict[str, CompiledForm]
) -> None:
    compiled = compiled_forms["member_intake"]
    publish_compiled(session, compiled, MEDIA)
    higher = str(int(compiled.version) + 1)
    result = publish_compiled(session, _changed(compiled, higher), MEDIA)
    assert result.status is PublishStatus.NEW_VERSION
    form = session.scalars(select(Form).where(Form.xml_form_id == "member_intake")).one()
    assert [v.version for v in form.versions] == [compiled.version, higher]
    assert form.current_version is not None and form.current_version.version == higher
    # The old version keeps its exact bytes: a phone that updates late still submits to it.
    assert form.versions[0].xml == compiled.xml


def test_publish__media_stored_static_or_generated(
    session: Session, compiled_forms: dict[str, CompiledForm]
) -> None:
    compiled = compiled_forms["workplace_visit"]
    publish_compiled(session, compiled, MEDIA)
    media = {m.filename: m for m in session.scalars(select(FormMedia))}
    assert set(media) == set(compiled.media_files)
    assert media["collectors.csv"].kind is MediaKind.COLLECTOR_LIST
    assert media["members.csv"].kind is MediaKind.ENTITY_LIST
    assert media["workplaces.csv"].kind is MediaKind.ENTITY_LIST
    # The account's area lists are built per collector; pictograms are static files.
    assert media["area_villages.csv"].kind is MediaKind.COLLECTOR_LIST
    assert media["area_communes.csv"].kind is MediaKind.COLLECTOR_LIST
    picture = media["venue-karaoke.png"]
    assert picture.kind is MediaKind.STATIC and picture.blob is not None
    assert picture.blob.content == (MEDIA / "venue-karaoke.png").read_bytes()


def test_publish__changed_media_updates_current_version_without_new_version(
    session: Session, compiled_forms: dict[str, CompiledForm], tmp_path: Path
) -> None:
    compiled = compiled_forms["workplace_visit"]  # village_data has no static media any more
    media = tmp_path / "media"
    media.mkdir()
    for name in compiled.media_files:
        if (MEDIA / name).exists():
            (media / name).write_bytes((MEDIA / name).read_bytes())
    publish_compiled(session, compiled, media)
    static = next(n for n in compiled.media_files if n not in GENERATED_MEDIA)
    (media / static).write_bytes((media / static).read_bytes() + b"\n")
    result = publish_compiled(session, compiled, media)
    assert result.status is PublishStatus.MEDIA_UPDATED
    assert _version_count(session, "workplace_visit") == 1
    row = session.scalars(select(FormMedia).where(FormMedia.filename == static)).one()
    assert row.blob is not None and row.blob.content.endswith(b"\n")


def test_publish__missing_media_file_refused(
    session: Session, compiled_forms: dict[str, CompiledForm], tmp_path: Path
) -> None:
    with pytest.raises(errors.FormInvalid, match="missing"):
        publish_compiled(session, compiled_forms["member_intake"], tmp_path)
    assert _version_count(session, "member_intake") == 0


def test_form_state__closing_and_closed(session: Session, compiled_forms: dict[str, CompiledForm]) -> None:
    publish_compiled(session, compiled_forms["village_data"], MEDIA)
    assert set_form_state(session, "village_data", FormState.CLOSING).state is FormState.CLOSING
    assert set_form_state(session, "village_data", FormState.CLOSED).state is FormState.CLOSED
    with pytest.raises(errors.FormUnknown):
        set_form_state(session, "no_such_form", FormState.OPEN)


def test_form_roles__peer_educators_and_village_chiefs_see_their_forms(
    session: Session, compiled_forms: dict[str, CompiledForm]
) -> None:
    for compiled in compiled_forms.values():
        publish_compiled(session, compiled, MEDIA)
    forms = {f.xml_form_id: f for f in session.scalars(select(Form))}
    assert forms["member_intake"].visible_to("peer_educator")
    assert forms["workplace_visit"].visible_to("peer_educator")
    assert not forms["village_data"].visible_to("peer_educator")
    assert forms["village_data"].visible_to("village")


@pytest.mark.parametrize(
    ("older", "newer"),
    [("2026112901", "2026112902"), ("9", "10"), ("2026112901", "v2")],
)
def test_version_key__orders_numeric_versions_as_numbers(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)


def test_publish_compiled__keeps_identity(compiled_forms: dict[str, CompiledForm]) -> None:
    # A guard for _changed(): replacing the title must not change the form id.
    c = compiled_forms["member_intake"]
    assert replace(c).form_id == _changed(c).form_id == "member_intake"
