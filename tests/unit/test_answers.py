"""The pure answer reader and version diff: labels from the form's itext, choices, groups,
repeats, media, and field-level diffs between versions."""

from __future__ import annotations

from server.casework.answers import read_answers, split_bilingual, walk_fields
from server.casework.diff import diff_answers

FORM = b"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>t</h:title>
    <model>
      <itext>
        <translation lang="Khmer (km)" default="true()">
          <text id="/data/age:label"><value>\xe1\x9e\xa2\xe1\x9e\xb6\xe1\x9e\x99\xe1\x9e\xbb</value></text>
          <text id="/data/signs:label"><value>Signs km</value></text>
          <text id="/data/g:label"><value>Group km</value></text>
          <text id="/data/g/kids:label"><value>Kids km</value></text>
          <text id="/data/g/kids/sex:label"><value>Sex km</value></text>
          <text id="/data/photo:label"><value>Photo km</value></text>
          <text id="/data/info:label"><value>Info <output value="/data/age"/> km</value></text>
          <text id="signs-0"><value>Locked km</value><value form="image">jr://images/lock.png</value></text>
          <text id="signs-1"><value>Debt km</value></text>
          <text id="sex-0"><value>Girl km</value></text>
          <text id="sex-1"><value>Boy km</value></text>
        </translation>
        <translation lang="English (en)">
          <text id="/data/age:label"><value>Age</value></text>
          <text id="/data/signs:label"><value>Signs</value></text>
          <text id="/data/g:label"><value>Group</value></text>
          <text id="/data/g/kids:label"><value>Children</value></text>
          <text id="/data/g/kids/sex:label"><value>Sex</value></text>
          <text id="/data/photo:label"><value>Photo</value></text>
          <text id="/data/info:label"><value>Info <output value="/data/age"/></value></text>
          <text id="signs-0"><value>Locked in</value></text>
          <text id="signs-1"><value>Debt</value></text>
          <text id="sex-0"><value>Girl</value></text>
          <text id="sex-1"><value>Boy</value></text>
        </translation>
      </itext>
      <instance>
        <data id="t" version="1">
          <age/><signs/><info/><risk/><photo/><village/>
          <g><kids jr:template=""><sex/></kids><kids><sex/></kids></g>
          <meta><instanceID/></meta>
        </data>
      </instance>
      <instance id="signs"><root>
        <item><itextId>signs-0</itextId><name>locked_in</name></item>
        <item><itextId>signs-1</itextId><name>debt</name></item>
      </root></instance>
      <instance id="sex"><root>
        <item><itextId>sex-0</itextId><name>f</name></item>
        <item><itextId>sex-1</itextId><name>m</name></item>
      </root></instance>
      <instance id="villages" src="jr://file-csv/villages.csv"/>
      <bind nodeset="/data/age" type="int"/>
      <bind nodeset="/data/signs" type="string"/>
      <bind nodeset="/data/info" readonly="true()" type="string"/>
      <bind nodeset="/data/risk" type="string" calculate="'red'"/>
      <bind nodeset="/data/photo" type="binary"/>
      <bind nodeset="/data/village" type="string"/>
      <bind nodeset="/data/g/kids/sex" type="string"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/age"><label ref="jr:itext('/data/age:label')"/></input>
    <select ref="/data/signs"><label ref="jr:itext('/data/signs:label')"/>
      <itemset nodeset="instance('signs')/root/item">
        <value ref="name"/><label ref="jr:itext(itextId)"/></itemset>
    </select>
    <input ref="/data/info"><label ref="jr:itext('/data/info:label')"/></input>
    <upload ref="/data/photo" mediatype="image/*"><label ref="jr:itext('/data/photo:label')"/></upload>
    <select1 ref="/data/village"><label>Village</label>
      <itemset nodeset="instance('villages')/root/item"><value ref="name"/><label ref="label"/></itemset>
    </select1>
    <group ref="/data/g"><label ref="jr:itext('/data/g:label')"/>
      <group ref="/data/g/kids"><label ref="jr:itext('/data/g/kids:label')"/>
        <repeat nodeset="/data/g/kids">
          <select1 ref="/data/g/kids/sex"><label ref="jr:itext('/data/g/kids/sex:label')"/>
            <itemset nodeset="instance('sex')/root/item">
              <value ref="name"/><label ref="jr:itext(itextId)"/></itemset>
          </select1>
        </repeat>
      </group>
    </group>
  </h:body>
</h:html>"""


def instance(age: str = "16", signs: str = "locked_in debt", kids: tuple[str, ...] = ("f", "m")) -> bytes:
    rows = "".join(f"<kids><sex>{k}</sex></kids>" for k in kids)
    return (f'<data id="t" version="1"><age>{age}</age><signs>{signs}</signs><info/><risk>red</risk>'
            f"<photo>1700000000.jpg</photo><village>18010101</village><g>{rows}</g>"
            "<meta><instanceID>uuid:1</instanceID></meta></data>").encode()


def by_path(nodes):
    return {f.path: f for f in walk_fields(nodes)}


def test_read_answers__labels_from_itext_in_each_language_with_codes_and_choice_labels():
    en = by_path(read_answers(FORM, instance(), "en"))
    km = by_path(read_answers(FORM, instance(), "km"))
    assert (en["/data/age"].label, en["/data/age"].value, en["/data/age"].type) == ("Age", "16", "int")
    assert km["/data/age"].label == "អាយុ"
    assert (en["/data/signs"].value, en["/data/signs"].value_label) == ("locked_in debt", "Locked in, Debt")
    assert km["/data/signs"].value_label == "Locked km, Debt km"  # the image form is not the label


def test_read_answers__repeats_are_rows_inside_their_group_and_meta_and_notes_are_left_out():
    nodes = read_answers(FORM, instance(), "en")
    names = [n.name for n in nodes]
    assert "meta" not in names and "info" not in names  # a note: read-only, no value
    group = next(n for n in nodes if n.name == "g")
    assert group.kind == "group" and group.label == "Group"
    (kids,) = group.children
    assert kids.kind == "repeat" and kids.label == "Children"
    assert [[(f.path, f.value, f.value_label) for f in row] for row in kids.rows] == [
        [("/data/g/kids[1]/sex", "f", "Girl")], [("/data/g/kids[2]/sex", "m", "Boy")]]


def test_read_answers__calculates_kept_media_named_external_lists_marked_empty_groups_dropped():
    nodes = read_answers(FORM, instance(kids=()), "en")
    fields = by_path(nodes)
    assert fields["/data/risk"].value == "red" and fields["/data/risk"].label is None
    assert fields["/data/photo"].media == "1700000000.jpg" and fields["/data/photo"].label == "Photo"
    assert fields["/data/village"].options_from == "villages" and fields["/data/village"].label == "Village"
    assert "g" not in [n.name for n in nodes]  # a group with nothing answered in it


def test_diff_answers__changed_added_and_removed_fields_with_labels_and_repeat_rows():
    old = read_answers(FORM, instance(age="16", kids=("f", "m")), "en")
    new = read_answers(FORM, instance(age="19", signs="debt", kids=("f",)), "en")
    changes = {c.path: c for c in diff_answers(old, new)}
    assert set(changes) == {"/data/age", "/data/signs", "/data/g/kids[2]/sex"}
    assert (changes["/data/age"].old_value, changes["/data/age"].new_value) == ("16", "19")
    assert changes["/data/signs"].old_label == "Locked in, Debt"
    assert changes["/data/signs"].new_label == "Debt"
    removed = changes["/data/g/kids[2]/sex"]
    assert (removed.label, removed.old_label, removed.new_value) == ("Sex", "Boy", None)
    assert diff_answers(old, old) == []


def test_split_bilingual__static_list_labels():
    assert split_bilingual("អូរធំ / Ou Thum", "en") == "Ou Thum"
    assert split_bilingual("អូរធំ / Ou Thum", "km") == "អូរធំ"
    assert split_bilingual("PE07", "km") == "PE07"


def test_real_forms__every_control_has_a_khmer_and_an_english_label(compiled_forms):
    from server.casework.answers import form_spec

    for form_id, compiled in compiled_forms.items():
        xml = compiled.xml if isinstance(compiled.xml, bytes) else compiled.xml.encode()
        spec = form_spec(xml)
        for ref, control in spec.controls.items():
            if control.tag in ("input", "select1", "select"):
                assert control.label.get("km") and control.label.get("en"), (form_id, ref)
                assert control.label["km"] != control.label["en"], (form_id, ref)
