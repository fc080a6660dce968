"""`sahakum sync rekey`: members stored under older matching rules get today's keys and bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from server.cli import main
from server.db.models import EntityType, LinkageKey, Member
from server.db.session import Database
from server.sync import match
from server.sync.linkage import member_record
from server.sync.rekey import rekey_members
from server.sync.worker import process_pending
from tests.integration.test_merge_intake import intake
from tests.support.submissions import add_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def _stored_keys(db: Database, member_id: Any) -> set[str]:
    with db.sessionmaker() as s:
        return set(s.scalars(select(LinkageKey.key).where(
            LinkageKey.entity_type == EntityType.MEMBER, LinkageKey.entity_id == member_id)))


def test_rekey__restores_keys_and_bounds_of_members_keyed_by_older_rules(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    with db.transaction() as s:
        add_submission(s, "member_intake", intake())
        add_submission(s, "member_intake", intake(member_code="4M2P8Q-A", given_name_km="ធីតា",
                                                  name_latin="Chan Thida", phone="0970009999"))
    assert not process_pending(db, 10).failed
    with db.transaction() as s:
        members = list(s.scalars(select(Member).order_by(Member.id)))
        ids = [m.id for m in members]
        expected = {m.id: (set(match.blocking_keys(member_record(m))),
                           member_record(m).keys.birth_years) for m in members}  # fmt: skip
        # What an older release left behind: narrower bounds, a stale key, a key missing.
        for m in members:
            m.birth_year_min, m.birth_year_max = 2006, 2007
        s.execute(delete(LinkageKey).where(LinkageKey.key.like("lc:%")))
        s.add(LinkageKey(entity_type=EntityType.MEMBER, entity_id=ids[0], key="xx:stale"))

    env = {"SAHAKUM_DATABASE_URL": database_url, "SAHAKUM_INSTANCE_DIR": str(tmp_path)}
    out = CliRunner().invoke(main, ["sync", "rekey", "--batch", "1"], env=env)
    assert out.exit_code == 0, out.output
    assert "members re-keyed: 2, birth-year bounds changed: 2" in out.output
    with db.sessionmaker() as s:
        for mid in ids:
            keys, bounds = expected[mid]
            assert _stored_keys(db, mid) == {k[:255] for k in keys}
            m = s.get(Member, mid)
            assert (m.birth_year_min, m.birth_year_max) == bounds

    # A second run changes nothing.
    with db.transaction() as s:
        assert rekey_members(s).bounds_changed == 0
