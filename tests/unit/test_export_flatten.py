"""Export rows: the fast reading of an instance (regular expressions over Collect's plain XML)
gives exactly what the lxml tree gives, escapes, repeats, labels and empty answers included."""

from __future__ import annotations

import uuid

import pytest

from server.casework.answers import form_spec
from server.reports.exports import flatten, flatten_tree, layout
from server.xforms.compile import CompiledForm
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_village import report as village_report
from tests.integration.test_merge_visit import visit
from tests.support.submissions import build_xml

CASES = [
    ("workplace_visit", visit(uuid.uuid4(), activities="leaflets negotiated_with_owner", n_leaflets="3")),
    ("member_intake", intake(name_latin="Chan & Sokha <Pov>", family_name_km="ចាន់")),
    ("village_data", village_report(n_new_venues="2", new_venue=[
        {"nv_name": "Sunrise & Moon", "nv_type": "karaoke"}, {"nv_name": "", "nv_type": "massage"}],
        any_concern="yes", n_concerns="1",
        case_alert=[{"concern_type": "missing_person", "age_group": "18_24", "sex": "f"}])),
]


@pytest.mark.parametrize(("form_id", "answers"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("labels", ["codes", "en", "km"])
@pytest.mark.parametrize("with_pii", [True, False])
def test_flatten__fast_path_equals_the_tree(compiled_forms: dict[str, CompiledForm], form_id: str,
                                            answers: dict, labels: str, with_pii: bool) -> None:
    form_xml = compiled_forms[form_id].xml
    lay = layout(form_spec(form_xml), form_id, with_pii=with_pii, labels=labels)
    xml = build_xml(form_xml, answers, instance_id=f"uuid:{uuid.uuid4()}")
    fast, slow = flatten(xml, lay), flatten_tree(xml, lay)
    assert fast == ({k: v for k, v in slow[0].items() if v}, {
        name: [{k: v for k, v in row.items() if v} for row in rows] for name, rows in slow[1].items()})
    assert fast[0], "the instance was read"


def test_flatten__escaped_text_and_repeats(compiled_forms: dict[str, CompiledForm]) -> None:
    form_xml = compiled_forms["village_data"].xml
    lay = layout(form_spec(form_xml), "village_data", with_pii=True, labels="en")
    xml = build_xml(form_xml, CASES[2][1], instance_id="uuid:x")
    main, reps = flatten(xml, lay)
    assert [r.get("nv_name") for r in reps["new_venue"]] == ["Sunrise & Moon", None]
    assert reps["new_venue"][1]["nv_type"] == "Massage" and main["village"] == "18010101"


def test_flatten__cdata_goes_through_the_tree(compiled_forms: dict[str, CompiledForm]) -> None:
    form_xml = compiled_forms["village_data"].xml
    lay = layout(form_spec(form_xml), "village_data", with_pii=True, labels="codes")
    xml = build_xml(form_xml, CASES[2][1], instance_id="uuid:x").replace(
        b"<village>18010101</village>", b"<village><![CDATA[18010101]]></village>")
    assert flatten(xml, lay)[0]["village"] == "18010101"


def test_flatten__attributes_groups_and_blank_leaves_as_the_tree(
    compiled_forms: dict[str, CompiledForm],
) -> None:
    """The split reading against lxml on the shapes Collect rarely sends: a leaf with an
    attribute, a repeat instance with one, whitespace-only text and a leaf closing a group."""
    form_xml = compiled_forms["village_data"].xml
    lay = layout(form_spec(form_xml), "village_data", with_pii=True, labels="codes")
    xml = build_xml(form_xml, CASES[2][1], instance_id="uuid:x")
    xml = xml.replace(b"<village>18010101</village>", b'<village x="1">18010101</village>')
    xml = xml.replace(b"<new_venue>", b'<new_venue jr:x="y" xmlns:jr="http://openrosa.org/javarosa">', 1)
    xml = xml.replace(b"<n_concerns>1</n_concerns>", b"<n_concerns>  </n_concerns>")
    fast, slow = flatten(xml, lay), flatten_tree(xml, lay)
    assert fast == ({k: v for k, v in slow[0].items() if v}, {
        name: [{k: v for k, v in row.items() if v} for row in rows] for name, rows in slow[1].items()})
    assert fast[0]["village"] == "18010101" and "n_concerns" not in fast[0]
    assert [r.get("nv_type") for r in fast[1]["new_venue"]] == ["karaoke", "massage"]
