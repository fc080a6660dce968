"""Insert submissions straight into the database from answer dicts (no HTTP), for merge tests.

The XML is built from the published form's primary instance (so groups, repeats and the
``meta/entity`` block have the real shape); answers are set by field name. Edits add a new
version with ``meta/deprecatedID`` and make it current, as ingest does.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    Collector,
    CollectorRole,
    Form,
    FormVersion,
    Submission,
    SubmissionState,
    SubmissionVersion,
)

XF = "http://www.w3.org/2002/xforms"
JR = "http://openrosa.org/javarosa"

Answers = Mapping[str, Any]  # name -> str | int | list[str] (select_multiple) | list[dict] (repeat)


def collector(
    session: Session,
    name: str = "PE07",
    communes: str = "180101 180102",
    role: CollectorRole = CollectorRole.PEER_EDUCATOR,
) -> Collector:
    found = session.scalar(select(Collector).where(Collector.name == name))
    if found is not None:
        return found
    c = Collector(
        name=name, role=role, token_hash=hashlib.sha256(name.encode()).hexdigest(), communes=communes
    )
    session.add(c)
    session.flush()
    return c


def _form_version(session: Session, form_id: str) -> FormVersion:
    form = session.scalar(select(Form).where(Form.xml_form_id == form_id))
    if form is None:
        raise LookupError(f"form {form_id} is not published (use the published_forms fixture)")
    return form.versions[-1]


def _template(form_xml: bytes) -> etree._Element:
    root = etree.fromstring(form_xml)
    instance = root.find(f".//{{{XF}}}instance")
    return copy.deepcopy(next(iter(instance)))


def _local(el: etree._Element) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(str(v) for v in value)
    return str(value)


def build_xml(
    form_xml: bytes,
    answers: Answers,
    *,
    instance_id: str,
    deprecated_id: str | None = None,
    entity: Mapping[str, str] | None = None,
) -> bytes:
    """Fill the form's primary instance. Unknown answer names are an error (typos in tests)."""
    root = _template(form_xml)
    # Repeats: keep one template element per name, drop the rest.
    templates: dict[str, tuple[etree._Element, etree._Element, int]] = {}
    for el in list(root.iter()):
        if el.get(f"{{{JR}}}template") is not None:
            parent = el.getparent()
            templates[_local(el)] = (parent, el, list(parent).index(el))
    for name, (parent, _tpl, _pos) in templates.items():
        for child in list(parent):
            if _local(child) == name:
                parent.remove(child)
    leaves = {
        _local(el): el
        for el in root.iter()
        if isinstance(el.tag, str) and len(el) == 0 and _local(el) not in {"label"}
    }
    used = set()
    for name, value in answers.items():
        if name in templates:
            parent, tpl, pos = templates[name]
            for i, row in enumerate(value):
                item = copy.deepcopy(tpl)
                item.attrib.pop(f"{{{JR}}}template", None)
                for leaf in item.iter():
                    if len(leaf) == 0 and _local(leaf) in row:
                        leaf.text = _text(row[_local(leaf)])
                parent.insert(pos + i, item)
            used.add(name)
            continue
        if name not in leaves:
            raise KeyError(f"{name} is not a field of {root.get('id')}")
        leaves[name].text = _text(value)
        used.add(name)
    meta = next(el for el in root if _local(el) == "meta")
    ns = meta.tag.rsplit("}", 1)[0] + "}" if "}" in meta.tag else ""
    meta.find(f"{ns}instanceID").text = instance_id
    if deprecated_id:
        dep = etree.SubElement(meta, f"{ns}deprecatedID")
        dep.text = deprecated_id
    ent = meta.find(f"{ns}entity")
    if ent is not None:
        for k, v in (entity or {}).items():
            ent.set(k, v)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def add_submission(
    session: Session,
    form_id: str,
    answers: Answers,
    *,
    instance_id: str | None = None,
    entity: Mapping[str, str] | None = None,
    by: Collector | None = None,
    received_at: datetime | None = None,
) -> Submission:
    """A new logical submission with one (current) version, state RECEIVED."""
    fv = _form_version(session, form_id)
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    by = by or collector(session)
    xml = build_xml(fv.xml, answers, instance_id=instance_id, entity=entity)
    sub = Submission(form_id=fv.form_id, root_instance_id=instance_id, state=SubmissionState.RECEIVED)
    session.add(sub)
    session.flush()
    _add_version(session, sub, fv, xml, instance_id, None, by, received_at)
    return sub


def edit_submission(
    session: Session,
    sub: Submission,
    answers: Answers,
    *,
    entity: Mapping[str, str] | None = None,
    received_at: datetime | None = None,
) -> SubmissionVersion:
    """An edit (meta/deprecatedID = the current instanceID): a new current version."""
    current = session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.submission_id == sub.id, SubmissionVersion.is_current.is_(True)
        )
    )
    fv = session.get(FormVersion, current.form_version_id)
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = build_xml(
        fv.xml, answers, instance_id=instance_id, deprecated_id=current.instance_id, entity=entity
    )
    current.is_current = False
    by = session.get(Collector, current.submitted_by_id)
    version = _add_version(session, sub, fv, xml, instance_id, current.instance_id, by, received_at)
    sub.state = SubmissionState.RECEIVED
    session.flush()
    return version


def _add_version(
    session: Session,
    sub: Submission,
    fv: FormVersion,
    xml: bytes,
    instance_id: str,
    deprecated_id: str | None,
    by: Collector,
    received_at: datetime | None,
) -> SubmissionVersion:
    digest = hashlib.sha256(xml).hexdigest()
    version = SubmissionVersion(
        submission_id=sub.id,
        form_id=fv.form_id,
        form_version_id=fv.id,
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        is_current=True,
        xml=xml,
        xml_sha256=digest,
        c14n_sha256=digest,
        encrypted=False,
        submitted_by_id=by.id,
        collector_code=by.name,
        device_id="collect:test",
        received_at=received_at or datetime.now(UTC),
    )
    session.add(version)
    session.flush()
    session.refresh(sub, ["versions"])
    return version
