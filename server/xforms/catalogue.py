"""Which forms a collector may use: the one place that decides it (issue 10).

A form is for the roles named in `Form.roles`. A collector may download and submit to a form
for its role unless the form is closed; a *closing* form still accepts submissions but is no
longer listed (protocol.md 2.1, Central's behaviour); only open forms are listed. Every OpenRosa
path (form list, download, manifest, media, entity lists, integrity, submission) asks here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from server import errors
from server.db.models import Form, FormMedia, FormState, FormVersion, MediaKind


def check_use(role: str, form_roles: str, state: FormState) -> None:
    """The rule itself, on plain values (the submission path has no Form object)."""
    if role not in form_roles.split():
        raise errors.FormNotForCollector()
    if state == FormState.CLOSED:
        raise errors.FormClosed()


def may_use(role: str, form: Form) -> bool:
    try:
        check_use(role, form.roles, form.state)
    except errors.SahakumError:
        return False
    return True


def is_listed(role: str, form: Form) -> bool:
    return form.state == FormState.OPEN and may_use(role, form) and form.current_version is not None


_BY_FORM_ID = select(Form).where(Form.xml_form_id == bindparam("xml_form_id"))


def usable_form(session: Session, role: str, xml_form_id: str) -> Form:
    """The form, or the error Collect should show (unknown, not for this role, closed)."""
    form = session.scalars(_BY_FORM_ID, {"xml_form_id": xml_form_id}).one_or_none()
    if form is None:
        raise errors.FormUnknown()
    check_use(role, form.roles, form.state)
    return form


def current_version(form: Form) -> FormVersion:
    version = form.current_version
    if version is None:
        raise errors.FormUnknown()
    return version


def version_of(form: Form, version: str) -> FormVersion:
    row = next((v for v in form.versions if v.version == version), None)
    if row is None:
        raise errors.FormVersionUnknown()
    return row


def listed_forms(session: Session, role: str, only: str | None = None) -> list[tuple[Form, FormVersion]]:
    """The forms the collector's formList shows, with their current versions, by form id."""
    stmt = (
        select(Form)
        .where(Form.state == FormState.OPEN)
        .order_by(Form.xml_form_id)
        .options(selectinload(Form.versions).selectinload(FormVersion.media))
    )
    if only:
        stmt = stmt.where(Form.xml_form_id == only)
    return [(form, current_version(form)) for form in session.scalars(stmt) if is_listed(role, form)]


def current_media_select(*columns: Any) -> Select[Any]:
    """The form's roles and state, then `columns`, of the media file `filename` of the current
    version of form `xml_form_id` (both bound parameters)."""
    return (
        select(Form.roles, Form.state, *columns)
        .join(FormVersion, FormVersion.form_id == Form.id)
        .join(FormMedia, FormMedia.form_version_id == FormVersion.id)
        .where(
            Form.xml_form_id == bindparam("xml_form_id"),
            FormMedia.filename == bindparam("filename"),
            FormVersion.id == select(func.max(FormVersion.id)).where(FormVersion.form_id == Form.id)
            .correlate(Form).scalar_subquery(),
        )
    )


_CURRENT_MEDIA = current_media_select(FormMedia)


def usable_media(session: Session, role: str, xml_form_id: str, filename: str) -> FormMedia:
    """A media file of a form's current version, in one read (phones poll lists often);
    the error Collect should show otherwise."""
    row = session.execute(_CURRENT_MEDIA, {"xml_form_id": xml_form_id, "filename": filename}).one_or_none()
    if row is None:
        return media_of(usable_form(session, role, xml_form_id), filename)  # raises the reason
    roles, state, media = row
    check_use(role, roles, state)
    return media


def media_of(form: Form, filename: str) -> FormMedia:
    media = next((m for m in current_version(form).media if m.filename == filename), None)
    if media is None:
        raise errors.NotFound("This media file is not on the server. Update your blank forms.")
    return media


def dataset_name(filename: str) -> str:
    return filename.removesuffix(".csv")


def readable_entity_lists(session: Session, role: str) -> set[str]:
    """Entity lists (datasets) of the forms this collector may use: those it may ask about."""
    forms = session.scalars(select(Form).where(Form.state != FormState.CLOSED))
    return {
        dataset_name(m.filename)
        for form in forms
        if may_use(role, form) and form.current_version is not None
        for m in form.current_version.media
        if m.kind == MediaKind.ENTITY_LIST
    }
