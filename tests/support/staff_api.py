"""Fixtures and row factories for the staff JSON API tests. Import the names into a test module."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.accounts.staff import create_staff
from server.db.models import (
    Collector,
    CollectorRole,
    Form,
    FormVersion,
    StaffRole,
    Submission,
    SubmissionState,
    SubmissionVersion,
)
from server.db.session import Database


@dataclass(frozen=True)
class StaffClient:
    """A test client that sends one staff member's bearer token."""

    client: FlaskClient
    token: str
    staff_id: int
    role: str

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(headers), **kw)


@pytest.fixture
def staff(db: Database, client: FlaskClient) -> dict[str, StaffClient]:
    """One client per role: staff["case"], staff["child_protection"], staff["me"], staff["admin"]."""
    out = {}
    with db.transaction() as s:
        for role in StaffRole:
            user, token = create_staff(s, f"test-{role.value}", role)
            s.flush()
            out[role.value] = StaffClient(client, token, user.id, role.value)
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_submission(
    s: Session,
    form_id: str = "member_intake",
    instance_id: str | None = None,
    state: SubmissionState = SubmissionState.MERGED,
    versions: int = 1,
) -> Submission:
    """A stored submission (and, if needed, its form and a collector) without going through HTTP."""
    form = s.query(Form).filter_by(xml_form_id=form_id).one_or_none()
    if form is None:
        form = Form(xml_form_id=form_id, title=form_id, roles="peer_educator")
        s.add(form)
        s.flush()
        s.add(
            FormVersion(
                form_id=form.id, version="1", title=form_id, xml=b"<h/>", md5="0" * 32, source_sha256="0" * 64
            )
        )
        s.flush()
    fv = s.query(FormVersion).filter_by(form_id=form.id).first()
    collector = s.query(Collector).filter_by(name="PE-test").one_or_none()
    if collector is None:
        collector = Collector(name="PE-test", role=CollectorRole.PEER_EDUCATOR, token_hash=uuid.uuid4().hex)
        s.add(collector)
        s.flush()
    root = instance_id or f"uuid:{uuid.uuid4()}"
    sub = Submission(form_id=form.id, root_instance_id=root, state=state)
    s.add(sub)
    s.flush()
    previous = None
    for n in range(versions):
        iid = root if n == 0 else f"uuid:{uuid.uuid4()}"
        xml = f"<data><meta><instanceID>{iid}</instanceID></meta></data>".encode()
        v = SubmissionVersion(
            submission_id=sub.id,
            form_id=form.id,
            form_version_id=fv.id,
            instance_id=iid,
            deprecated_id=previous,
            is_current=n == versions - 1,
            xml=xml,
            xml_sha256=sha(xml),
            c14n_sha256=sha(xml),
            submitted_by_id=collector.id,
        )
        s.add(v)
        previous = iid
    s.flush()
    s.refresh(sub)
    if state == SubmissionState.MERGED:
        sub.merged_version_id = sub.versions[-1].id
        sub.merge_attempts = 1
    s.flush()
    return sub


def make_member(s: Session, code: str, **kw: Any) -> Any:
    from server.db.models.cases import AliasKind, Member, MemberAlias, MemberPhone

    phone = kw.pop("phone", "+85512345678")
    nickname = kw.pop("nickname", "Pov")
    fields: dict[str, Any] = {
        "family_name_km": "សុខ",
        "given_name_km": "សុភា",
        "name_latin_raw": "Sok Sophea",
        "dob": date(2001, 3, 4),
        "origin_village_code": "18010101",
        "sector": "karaoke",
        "pe_code": "PE07",
    }
    fields.update(kw)
    member = Member(member_code=code, **fields)
    s.add(member)
    s.flush()
    if nickname:
        s.add(MemberAlias(member_id=member.id, kind=AliasKind.NICKNAME, value=nickname))
    if phone:
        s.add(MemberPhone(member_id=member.id, phone_e164=phone, owner_type="own"))
    s.flush()
    return member


def make_workplace(s: Session, code: str, name: str = "Golden Star KTV", **kw: Any) -> Any:
    from server.db.models.cases import Workplace, WorkplaceName

    fields: dict[str, Any] = {"type": "karaoke", "village_code": "18010101", "commune_code": "180101"}
    wp = Workplace(workplace_code=code, **(fields | kw))
    s.add(wp)
    s.flush()
    s.add(WorkplaceName(workplace_id=wp.id, name_latin=name))
    s.flush()
    return wp


def make_referral(s: Session, code: str, category: str, **kw: Any) -> Any:
    from server.db.models.cases import Referral, ReferralSourceKind

    restricted = kw.pop("restricted", category == "child_protection")
    referral = Referral(
        case_code=code, category=category, source=ReferralSourceKind.INTAKE, restricted=restricted, **kw
    )
    s.add(referral)
    s.flush()
    return referral
