"""The merge's answers reader and its pure rules (answers, entity versions, referral grouping)."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace

import pytest

from server.sync import alerts as rules
from server.sync.merge.answers import UnreadableAnswers, event_date, read_answers
from server.sync.merge.entity_update import state_from_versions
from server.sync.merge.referrals import group_alerts

pytestmark = pytest.mark.dbless

ENTITY_ID = uuid.uuid4()
XML = f"""<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" id="village_data">
  <grp><village>14040101</village><period_ym>2025-01</period_ym></grp>
  <new_venue><nv_name>Happy KTV</nv_name><nv_type>ktv</nv_type></new_venue>
  <new_venue><nv_name>ភោជនីយដ្ឋាន</nv_name></new_venue>
  <today>2025-01-31</today>
  <meta>
    <instanceID>uuid:{uuid.uuid4()}</instanceID>
    <entity dataset="workplaces" id="uuid:{ENTITY_ID}" update="1" baseVersion="3" branchId="b1">
      <label>Somewhere</label>
    </entity>
  </meta>
</data>""".encode()


def test_read_answers__groups_flattened_repeats_listed() -> None:
    answers, _ = read_answers(XML)
    assert answers["village"] == "14040101" and answers["period_ym"] == "2025-01"
    assert [r["nv_name"] for r in answers["new_venue"]] == ["Happy KTV", "ភោជនីយដ្ឋាន"]
    assert answers["new_venue"][0]["nv_type"] == "ktv"
    assert answers["instanceID"].startswith("uuid:")


def test_read_answers__entity_metadata() -> None:
    _, entity = read_answers(XML)
    assert entity is not None
    assert (entity.dataset, entity.entity_id, entity.update, entity.create) == (
        "workplaces", ENTITY_ID, True, False)
    assert (entity.base_version, entity.branch_id, entity.label) == (3, "b1", "Somewhere")


def test_read_answers__broken_xml__unreadable() -> None:
    with pytest.raises(UnreadableAnswers, match="xml_unreadable"):
        read_answers(b"<data><open></data>")


def test_event_date__from_the_form_not_receipt() -> None:
    assert event_date({"start": "2025-01-02T08:00:00.000+07:00"}, date(2025, 3, 1)) == date(2025, 1, 2)
    assert event_date({"visit_date": "nonsense"}, date(2025, 3, 1)) == date(2025, 3, 1)


def test_event_date__a_village_report_is_dated_by_the_month_it_covers() -> None:
    sent_in_march = {"start": "2025-03-04T08:00:00.000+07:00", "period": "2025-01-17",
                     "period_ym": "2025-01"}
    assert event_date(sent_in_march, date(2025, 3, 5)) == date(2025, 1, 1)
    assert event_date({"period": "2025-01-01", "start": "2025-03-04"}, date(2025, 3, 5)) == date(
        2025, 1, 1)
    assert event_date({"period_ym": "bad", "start": "2025-03-04"}, date(2025, 3, 5)) == date(
        2025, 3, 4)


def _v(version: int, day: str | None, **props: str) -> SimpleNamespace:
    return SimpleNamespace(version=version, event_date=date.fromisoformat(day) if day else None,
                           properties=props)


def test_entity_state__late_offline_visit_does_not_overwrite_newer() -> None:
    rows = [_v(1, None), _v(2, "2025-02-01", last_access="full"),
            _v(3, "2025-01-15", last_access="refused")]
    assert state_from_versions(rows)["last_access"] == "full"


def _alert(code: str, key: str, priority: str = "normal") -> rules.Alert:
    return rules.Alert(code=code, category="labour_exploitation", priority=priority,
                       alert_key=key, descriptor={}, workplace_ref=None)


def test_group_alerts__one_referral_per_key_urgent_if_any() -> None:
    wanted = group_alerts([_alert("FL-2", "k1"), _alert("FL-3", "k1", rules.URGENT),
                           _alert("FL-2", "k1"), _alert("U18", "k2")])
    assert set(wanted) == {"k1", "k2"}
    assert wanted["k1"].triggers == ["FL-2", "FL-3"] and wanted["k1"].priority == rules.URGENT
