"""Generate Sahakum's three XLSForms and their media CSVs.

    .venv/bin/python forms/build_xlsforms.py            # writes forms/*.xlsx and forms/media/*.csv
    .venv/bin/python forms/build_xlsforms.py OUT_DIR    # writes OUT_DIR/*.xlsx only

The .xlsx files are what staff edit in Excel later; this script documents the
form content as readable data and regenerates them (both are committed, and
tests/unit/test_forms.py checks that they have not drifted apart).
Source of the content: /work/shared/domain.md section 3, with every correction
of 3.5 applied (numbers below refer to the rows and corrections there).

Deliberately left out:
- ``media::audio`` prompts (domain.md 1.4): no recorded Khmer prompts exist, and a
  synthetic voice is worse than none here. espeak-ng 1.51 (Debian 12's offline engine)
  ships 112 language dictionaries and none for Khmer, so it cannot read Khmer text; a
  Latin transliteration read by another voice would be unintelligible, and a wrong or
  robotic prompt on the screening questions would mislead the women being asked. KWCD
  staff should record the prompts (a phone's voice recorder is enough, 8-15 s each, AMR
  or MP3 under 30 KB); then add ``media::audio::Khmer (km)`` and ``media::audio::English
  (en)`` columns (both, 3.5) to the screening questions.
- ``public_key``: the forms stay unencrypted until the encryption issue lands
  (domain.md 1.5 rule 3). No ``username``, no ``audit`` metadata (shared phones).

Member code (domain.md 1.5 rule 2, correction 7): 6 Crockford base32 symbols
(``0-9A-Z`` without I, L, O, U), a dash, then Crockford's check symbol: the
30-bit value of the 6 symbols mod 37, written with the 37-symbol check alphabet
``0-9A-HJKMNP-TV-Z*~$=U``. The form checks both the shape (regex) and the check
symbol itself (an XPath mod-37 computation), so a mistyped code is refused on
the phone, offline. Only capital letters are accepted (the constraint message
says so); the server applies the same check.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

try:
    from server.xforms.gazetteer import choice_label, load_gazetteer, write_media_csvs
except ModuleNotFoundError:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from server.xforms.gazetteer import choice_label, load_gazetteer, write_media_csvs

FORMS_DIR = Path(__file__).resolve().parent
MEDIA_DIR = FORMS_DIR / "media"
VERSION = "2026120203"  # YYYYMMDDNN, always increasing
KM = "Khmer (km)"
EN = "English (en)"

# --------------------------------------------------------------------------- #
# Member code: Crockford base32 + mod-37 check symbol
# --------------------------------------------------------------------------- #
CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CROCKFORD37 = CROCKFORD32 + "*~$=U"
MEMBER_CODE_REGEX = "^[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z*~$=U]$"


def member_code_check_symbol(body: str) -> str:
    """Crockford check symbol of a 6-symbol body (same rule as the form constraint)."""
    value = 0
    for ch in body:
        value = value * 32 + CROCKFORD32.index(ch)
    return CROCKFORD37[value % 37]


def _member_code_check_xpath() -> str:
    """XPath 1.0 for the expected check symbol of `.`, reduced mod 37 after each step."""

    def digit(i: int) -> str:
        return f"string-length(substring-before('{CROCKFORD32}', substring(., {i}, 1)))"

    expr = digit(1)
    for i in range(2, 7):
        expr = f"(({expr}) * 32 + {digit(i)}) mod 37"
    return f"substring('{CROCKFORD37}', ({expr}) + 1, 1)"


MEMBER_CODE_CONSTRAINT = (
    f"regex(., '{MEMBER_CODE_REGEX}') and substring(., 8, 1) = {_member_code_check_xpath()}"
)
DEMO_MEMBER_CODE = "7K3Q9M-" + member_code_check_symbol("7K3Q9M")

# --------------------------------------------------------------------------- #
# Shared expressions and messages
# --------------------------------------------------------------------------- #
TEXT_MAX = "string-length(.) <= 200"
MSG_TEXT_MAX = ("សរសេរខ្លីៗ មិនលើសពី ២០០ តួអក្សរ", "write at most 200 characters")
HINT_NO_NAMES = ("កុំសរសេរឈ្មោះមនុស្ស", "no names of people")
MSG_REQUIRED = ("សូមឆ្លើយសំណួរនេះ", "Please answer this question.")
FL_EXCLUSIVE = (
    "not((selected(.,'none') or selected(.,'dont_know')) and count-selected(.)>1)"
)
MSG_FL_EXCLUSIVE = (
    "បើជ្រើស «គ្មានទេ» ឬ «មិនដឹង» កុំជ្រើសចម្លើយផ្សេងទៀត",
    "if you choose 'none' or 'don't know', choose nothing else",
)
STRONG_INDICATORS = ("movement", "violence", "threats", "id_retention", "debt_bondage")
OTHER_INDICATORS = (
    "vulnerability", "deception", "isolation", "wage_withholding",
    "abusive_conditions", "overtime",
)


# Item 5 (1.3): a phone is accepted as people type it (Khmer digits ០-៩, spaces, dashes,
# +855, 855 or a leading 0). translate() maps Khmer digits to ASCII and drops spaces and
# dashes before the shape check; the stored value is the typed one and the server
# normalises it (server.sync.match.normalise.normalise_phone).
PHONE_CONSTRAINT = (
    "regex(translate(., '០១២៣៤៥៦៧៨៩ -', '0123456789'), '^(\\+?855|0)[1-9][0-9]{7,8}$')"
)


def between(low: int | str, high: int | str) -> str:
    return f". >= {low} and . <= {high}"


def msg_number(low_km: str, high_km: str, low: str, high: str) -> tuple[str, str]:
    return (f"វាយចំនួន ពី {low_km} ដល់ {high_km}", f"type a number from {low} to {high}")


def any_selected(field_ref: str, names: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"selected({field_ref},'{n}')" for n in names) + ")"


# --------------------------------------------------------------------------- #
# Row model
# --------------------------------------------------------------------------- #
Pair = tuple[str, str]  # (Khmer, English)

SURVEY_COLUMNS = [
    "type", "name", f"label::{KM}", f"label::{EN}", f"hint::{KM}", f"hint::{EN}",
    "required", f"required_message::{KM}", f"required_message::{EN}", "relevant",
    "constraint", f"constraint_message::{KM}", f"constraint_message::{EN}",
    "appearance", "choice_filter", "calculation", "default", "repeat_count",
    "parameters", "save_to",
]
CHOICES_COLUMNS = ["list_name", "name", f"label::{KM}", f"label::{EN}"]
# Both languages get the image column (a Khmer-only media column makes pyxform warn, 3.5).
IMAGE_COLUMNS = [f"media::image::{KM}", f"media::image::{EN}"]
SETTINGS_COLUMNS = ["form_title", "form_id", "version", "default_language", "instance_name"]


@dataclass(frozen=True)
class Row:
    type: str
    name: str = ""
    label: Pair | None = None
    hint: Pair | None = None
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: Pair | None = None
    appearance: str = ""
    choice_filter: str = ""
    calculation: str = ""
    default: str = ""
    repeat_count: str = ""
    parameters: str = ""
    save_to: str = ""

    def cells(self) -> dict[str, str]:
        out = {
            "type": self.type, "name": self.name, "relevant": self.relevant,
            "constraint": self.constraint, "appearance": self.appearance,
            "choice_filter": self.choice_filter, "calculation": self.calculation,
            "default": self.default, "repeat_count": self.repeat_count,
            "parameters": self.parameters, "save_to": self.save_to,
            "required": "yes" if self.required else "",
        }
        for col, pair in (
            ("label", self.label), ("hint", self.hint), ("constraint_message", self.constraint_message),
            ("required_message", MSG_REQUIRED if self.required else None),
        ):
            if pair:
                out[f"{col}::{KM}"], out[f"{col}::{EN}"] = pair
        return out


def text(name: str, label: Pair, *, hint: Pair | None = None, **kw: object) -> Row:
    """A free-text question: always capped at 200 characters (domain.md 1.5/1)."""
    return Row("text", name, label, hint=hint, constraint=TEXT_MAX,
               constraint_message=MSG_TEXT_MAX, **kw)  # type: ignore[arg-type]


def note(name: str, label: Pair, relevant: str = "") -> Row:
    return Row("note", name, label, relevant=relevant)


def calc(name: str, expression: str, save_to: str = "") -> Row:
    return Row("calculate", name, calculation=expression, save_to=save_to)


def begin_group(name: str, relevant: str, label: Pair | None = None) -> Row:
    return Row("begin_group", name, label, relevant=relevant)


def end_group() -> Row:
    return Row("end_group")


META = [Row("start", "start"), Row("end", "end"), Row("deviceid", "deviceid")]


def new_workplace_place(prefix: str, relevant: str) -> list[Row]:
    """Where a workplace not in the list is: commune, village and a landmark. The commune puts
    it on the lists of that commune's phones; village and landmark match it. The lists are the
    account's area (item 1: the server cuts them to the provinces of her communes)."""
    return [
        Row("select_one_from_file area_communes.csv", f"{prefix}_commune",
            ("ឃុំ/សង្កាត់", "Commune"), required=True, relevant=relevant,
            appearance="autocomplete"),
        Row("select_one_from_file area_villages.csv", f"{prefix}_village", ("ភូមិ", "Village"),
            hint=("បើមិនដឹងភូមិ រំលងសំណួរនេះ", "if you do not know the village, skip it"),
            relevant=relevant, appearance="autocomplete",
            choice_filter=f"commune=${{{prefix}_commune}}"),
        text(f"{prefix}_landmark", ("តើវានៅជិតអ្វី? (ផ្សារ វត្ត សាលា ផ្លូវ)",
                                    "What is it near? (market, pagoda, school, road)"),
             hint=HINT_NO_NAMES, required=True, relevant=relevant),
    ]
COLLECTOR_LABEL = ("តើអ្នកណាជាអ្នកបំពេញទម្រង់នេះ?", "Who is filling this form?")


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    instance_name: str
    survey: list[Row]
    choices: dict[str, list[tuple[str, str, str]]]  # list_name -> [(name, km, en)]
    entities: dict[str, str] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: Show CHOICE_IMAGES on this form's choices (peer educators' forms, domain.md 1.4).
    images: bool = False


# --------------------------------------------------------------------------- #
# Choice lists (shared ones first, domain.md 3.0)
# --------------------------------------------------------------------------- #
YES_NO = [("yes", "បាទ/ចាស", "Yes"), ("no", "ទេ", "No")]
DONT_KNOW = ("dont_know", "មិនដឹង", "Don't know")
CHOICES: dict[str, list[tuple[str, str, str]]] = {
    "yes_no": YES_NO,
    "yes_no_dk": [*YES_NO, DONT_KNOW],
    "yes_no_unsure": [*YES_NO, ("unsure", "មិនប្រាកដ", "Not sure")],
    "zodiac": [
        ("rat", "ជូត (កណ្ដុរ)", "Rat"), ("ox", "ឆ្លូវ (គោ)", "Ox"),
        ("tiger", "ខាល (ខ្លា)", "Tiger"), ("rabbit", "ថោះ (ទន្សាយ)", "Rabbit"),
        ("dragon", "រោង (នាគ)", "Dragon"), ("snake", "ម្សាញ់ (ពស់)", "Snake"),
        ("horse", "មមី (សេះ)", "Horse"), ("goat", "មមែ (ពពែ)", "Goat"),
        ("monkey", "វក (ស្វា)", "Monkey"), ("rooster", "រកា (មាន់)", "Rooster"),
        ("dog", "ច (ឆ្កែ)", "Dog"), ("pig", "កុរ (ជ្រូក)", "Pig"),
    ],
    "age_source": [
        ("id_card", "អត្តសញ្ញាណប័ណ្ណ", "ID card"),
        ("family_book", "សៀវភៅគ្រួសារ", "Family book"),
        ("self_report", "នាងប្រាប់ខ្លួនឯង", "She told me"),
        ("collector_estimate", "ខ្ញុំប៉ាន់ស្មាន", "My estimate"),
    ],
    "phone_owner": [
        ("own", "ទូរស័ព្ទរបស់នាងផ្ទាល់", "Her own phone"),
        ("family", "ទូរស័ព្ទគ្រួសារ", "Family phone"),
        ("shared_coworkers", "ប្រើរួមជាមួយមិត្តរួមការងារ", "Shared with co-workers"),
        ("employer", "ទូរស័ព្ទរបស់ម្ចាស់ការងារ", "The employer's phone"),
        ("none", "គ្មានទូរស័ព្ទ", "No phone"),
    ],
    "sector": [
        ("karaoke", "ខារ៉ាអូខេ", "Karaoke"),
        ("beer_garden", "សួនស្រាបៀរ", "Beer garden"),
        ("massage", "ម៉ាស្សា", "Massage"),
        ("brothel_based", "ផ្ទះបន", "Brothel"),
        ("freelance_sex_work", "រកស៊ីផ្លូវភេទដោយខ្លួនឯង", "Freelance sex work"),
        ("restaurant", "ភោជនីយដ្ឋាន", "Restaurant"),
        ("factory", "រោងចក្រ", "Factory"),
        ("other", "ផ្សេងទៀត", "Other"),
    ],
    "workplace_type": [
        ("karaoke", "ខារ៉ាអូខេ", "Karaoke"),
        ("beer_garden", "សួនស្រាបៀរ", "Beer garden"),
        ("massage", "ម៉ាស្សា", "Massage"),
        ("brothel", "ផ្ទះបន", "Brothel"),
        ("guesthouse", "ផ្ទះសំណាក់", "Guesthouse"),
        ("restaurant", "ភោជនីយដ្ឋាន", "Restaurant"),
        ("nightclub_bar", "ក្លឹបរាត្រី ឬបារ", "Nightclub or bar"),
        ("factory", "រោងចក្រ", "Factory"),
        ("beauty_parlour", "ហាងកែសម្ផស្ស", "Beauty parlour"),
        ("other", "ផ្សេងទៀត", "Other"),
    ],
    "recruit_channel": [
        ("self", "ខ្លួនឯង", "Herself"),
        ("friend", "មិត្តភក្តិ", "A friend"),
        ("relative", "សាច់ញាតិ", "A relative"),
        ("broker_recruiter", "មេខ្យល់ ឬអ្នកជ្រើសរើសកម្មករ", "A broker or recruiter"),
        ("employer_direct", "ម្ចាស់ការងារផ្ទាល់", "The employer directly"),
        DONT_KNOW,
    ],
    # ILO forced-labour indicators (domain.md 3.0), plain words.
    "fl_indicators": [
        ("vulnerability",
         "ម្ចាស់ប្រើបញ្ហារបស់នាង (បំណុល គ្មានឯកសារ ខ្លាចប៉ូលិស គ្រួសារក្រ) ដើម្បីឱ្យនាងនៅ",
         "Boss uses her problems (debt, no papers, fear of police, poor family) to make her stay"),
        ("deception", "គេសន្យាការងារ ប្រាក់ឈ្នួល ឬលក្ខខណ្ឌផ្សេងពីនេះ",
         "She was promised another job, pay or conditions"),
        ("movement", "នាងមិនអាចចេញទៅណាដោយសេរី ត្រូវគេចាក់សោ ឬឃ្លាំមើល",
         "She cannot leave or go out freely; locked in; watched"),
        ("isolation", "គេមិនឱ្យជួបគ្រួសារ ឬមិត្តភក្តិ ឬដកយកទូរស័ព្ទ",
         "Kept from family or friends; phone taken"),
        ("violence", "គេវាយ ធ្វើបាប ឬបង្ខំរួមភេទ បង្ខំផឹកស្រា ឬប្រើគ្រឿងញៀន",
         "Hit, hurt, or forced to have sex or to drink or take drugs"),
        ("threats", "គេគំរាមនាង ឬគ្រួសារនាង (ធ្វើបាប ហៅប៉ូលិស ប្រាប់គ្រួសារ)",
         "She or her family were threatened (with harm, with police, with telling the family)"),
        ("id_retention", "ម្ចាស់យកអត្តសញ្ញាណប័ណ្ណ ឬសៀវភៅគ្រួសាររបស់នាងទុក",
         "Boss keeps her ID card or family book"),
        ("wage_withholding", "ម្ចាស់ទុក ឬពន្យារប្រាក់ឈ្នួលរបស់នាង", "Boss keeps or delays her pay"),
        ("debt_bondage",
         "ជំពាក់បំណុលម្ចាស់ ឬមេខ្យល់ ដែលនាងសងមិនរួច "
         "(លុយឱ្យឪពុកម្ដាយមុន ការពិន័យ ម្ហូប សម្លៀកបំពាក់ បន្ទប់)",
         "A debt to the boss or broker she cannot pay off "
         "(advance paid to parents, fines, food, clothes, room)"),
        ("abusive_conditions",
         "ការងារ ឬកន្លែងស្នាក់នៅអាក្រក់ខ្លាំង (បង្ខំផឹក បន្ទប់គ្មានសុវត្ថិភាព គ្មានស្រោមអនាម័យ)",
         "Very bad work or living conditions (forced drinking, unsafe room, no condoms)"),
        ("overtime", "ធ្វើការយូរម៉ោងពេក ឬគ្មានថ្ងៃឈប់ ហើយនាងបដិសេធមិនបាន",
         "Very long hours or no day off, and she cannot refuse"),
        ("none", "គ្មានទេ", "None of these"),
        DONT_KNOW,
    ],
}

# Item 5 (domain.md 1.4): pictures on the choices that name venue types and forced-labour
# signs. OpenMoji pictograms (CC BY-SA 4.0), rendered to 96 px PNG; the source, the
# emoji of each file and the licence are in forms/media/SOURCES.md.
VENUE_IMAGES = {
    "karaoke": "venue-karaoke.png", "beer_garden": "venue-beer-garden.png",
    "massage": "venue-massage.png", "brothel": "venue-brothel.png",
    "guesthouse": "venue-guesthouse.png", "restaurant": "venue-restaurant.png",
    "nightclub_bar": "venue-nightclub-bar.png", "factory": "venue-factory.png",
    "beauty_parlour": "venue-beauty-parlour.png", "other": "choice-dont-know.png",
}
CHOICE_IMAGES: dict[str, dict[str, str]] = {
    "workplace_type": VENUE_IMAGES,
    "sector": {
        "karaoke": VENUE_IMAGES["karaoke"], "beer_garden": VENUE_IMAGES["beer_garden"],
        "massage": VENUE_IMAGES["massage"], "brothel_based": VENUE_IMAGES["brothel"],
        "restaurant": VENUE_IMAGES["restaurant"], "factory": VENUE_IMAGES["factory"],
        "other": VENUE_IMAGES["other"],
    },
    "fl_indicators": {
        "vulnerability": "fl-vulnerability.png", "deception": "fl-deception.png",
        "movement": "fl-movement.png", "isolation": "fl-isolation.png",
        "violence": "fl-violence.png", "threats": "fl-threats.png",
        "id_retention": "fl-id-retention.png", "wage_withholding": "fl-wage-withholding.png",
        "debt_bondage": "fl-debt-bondage.png", "abusive_conditions": "fl-abusive-conditions.png",
        "overtime": "fl-overtime.png", "none": "choice-none.png",
        "dont_know": "choice-dont-know.png",
    },
}

# --------------------------------------------------------------------------- #
# Form 1: member_intake (domain.md 3.1 + corrections 1-9)
# --------------------------------------------------------------------------- #
IS_ADULT = "${is_minor}='no'"
FL1_STRONG = f"({any_selected('${fl_screen}', STRONG_INDICATORS)} or ${{id_card}}='held_by_employer')"
FL1_OTHER_N = " + ".join(f"if(selected(${{fl_screen}},'{n}'), 1, 0)" for n in OTHER_INDICATORS)

MEMBER_INTAKE_SURVEY = [
    *META,
    # Correction 5: a `today` metadata row, outside every group, keeps the intake date
    # stable (not recomputed when the form is reopened) and set for minors too.
    Row("today", "today_calc", save_to="joined_date"),
    Row("select_one_from_file collectors.csv", "collector", COLLECTOR_LABEL, required=True,
        save_to="pe_code"),
    note("n_private", ("សួរនៅកន្លែងស្ងាត់ ដាច់ពីគេ។ កុំសរសេរឈ្មោះភ្ញៀវ ម្ចាស់ ឬគ្រួសារ។",
                       "Ask in a private place. Do not write the names of clients, bosses or family.")),
    Row("select_one yes_no", "consent",
        ("ខ្ញុំបានអានការយល់ព្រមឱ្យនាងស្ដាប់រួចហើយ។ "
         "តើនាងយល់ព្រមចូលបណ្ដាញ និងឱ្យរក្សាទុកព័ត៌មានរបស់នាងទេ?",
         "I read the consent text. Does she agree to join and to have her information kept?"),
        required=True),
    # Correction 4: "no" ends the interview.
    note("n_no_consent", ("នាងមិនយល់ព្រមទេ។ សូមអរគុណនាង ហើយឈប់ត្រឹមនេះ។ រក្សាទុក ហើយបិទទម្រង់។",
                          "She does not agree. Thank her and stop here. Save and close the form."),
         relevant="${consent}='no'"),
    begin_group("g_main", "${consent}='yes'"),
    Row("select_one yes_no", "consent_referral",
        ("តើនាងយល់ព្រមឱ្យបុគ្គលិកចែកព័ត៌មានរបស់នាងជាមួយសេវាសុខភាព ឬសេវាច្បាប់ "
         "ពេលនាងសុំជំនួយទេ?",
         "Does she agree that staff may share her information with a health or legal "
         "service when she asks for help?"),
        required=True),
    # Correction 1: age first (rows 13-19), so a child is never given a member code.
    # Correction 2: rows 13-15 required.
    Row("select_one yes_no", "dob_known",
        ("តើនាងដឹងថ្ងៃខែឆ្នាំកំណើតរបស់នាងទេ?", "Does she know her date of birth?"), required=True),
    Row("date", "dob", ("ថ្ងៃខែឆ្នាំកំណើត", "Date of birth"), required=True,
        relevant="${dob_known}='yes'", constraint=". <= today() and . > date('1950-01-01')",
        constraint_message=("ជ្រើសថ្ងៃចន្លោះឆ្នាំ ១៩៥០ និងថ្ងៃនេះ",
                            "choose a date between 1950 and today")),
    Row("integer", "age_stated", ("តើនាងអាយុប៉ុន្មានឆ្នាំ?", "How old is she (years)?"),
        required=True, relevant="${dob_known}='no'", constraint=between(10, 70),
        constraint_message=("វាយអាយុជាឆ្នាំ ពី ១០ ដល់ ៧០", "type the age in years, 10 to 70")),
    Row("select_one zodiac", "zodiac", ("ឆ្នាំសត្វរបស់នាង", "Her animal year"),
        relevant="${dob_known}='no'"),
    Row("select_one age_source", "age_source",
        ("តើអាយុនេះបានមកពីណា?", "Where does this age come from?"), required=True),
    # Correction 3: whole years, counting the birthday exactly; blank while dob is blank.
    calc("age_years",
         "if(${dob_known}='yes', if(string(${dob})='', '', "
         "int(format-date(today(),'%Y')) - int(format-date(${dob},'%Y')) - "
         "if(int(format-date(today(),'%m%d')) < int(format-date(${dob},'%m%d')), 1, 0)), "
         "${age_stated})"),
    # Correction 2: an unknown age counts as under 18 until staff verify it (1.6).
    calc("is_minor", "if(string(${age_years})='' or ${age_years} < 18, 'yes', 'no')"),
    # Item 2 (1.6): the minor's path comes at once, before anything that identifies her:
    # no member code, no name, no phone, no photo is asked of a child.
    note("n_minor",
         ("នាងអាយុក្រោម ១៨ ឆ្នាំ។ នេះជាករណីការពារកុមារ។ ឈប់ត្រឹមនេះ "
          "នៅជាមួយនាងបើមានសុវត្ថិភាព ហើយទូរស័ព្ទទៅបុគ្គលិក KWCD ឥឡូវនេះ។",
          "She is under 18. This is a child-protection case. Stop here, stay with her if it "
          "is safe, and call KWCD staff now."),
         relevant="${is_minor}='yes'"),
    Row("select_one yes_no_dk", "minor_safe_now",
        ("តើឥឡូវនេះនាងមានសុវត្ថិភាពទេ?", "Is she safe right now?"),
        required=True, relevant="${is_minor}='yes'"),
    # Adults only: the member code and her names (person-matching evidence, S, ID).
    begin_group("g_identity", IS_ADULT),
    Row("text", "member_code",
        ("លេខកូដសមាជិក (នៅលើសៀវភៅសន្សំ ឬកាតសមាជិករបស់នាង)",
         "Member code (from her savings book or member card)"),
        hint=(f"ឧទាហរណ៍ {DEMO_MEMBER_CODE}៖ ចម្លងពីសៀវភៅ ជាអក្សរធំ",
              f"e.g. {DEMO_MEMBER_CODE}: copy it from the book, in capital letters"),
        required=True, constraint=MEMBER_CODE_CONSTRAINT,
        constraint_message=("លេខកូដមិនត្រឹមត្រូវ៖ ចម្លងម្ដងទៀតពីសៀវភៅ ជាអក្សរធំ និងសញ្ញាដាច់ (-)",
                            "the code is not right: copy it again from the book, "
                            "with capital letters and the dash"),
        save_to="member_code"),
    # Names: person-matching evidence (S, ID). Correction 9: all free text <= 200.
    text("family_name_km", ("នាមត្រកូល (អក្សរខ្មែរ)", "Family name (Khmer letters)"),
         hint=("ដូចនៅលើអត្តសញ្ញាណប័ណ្ណ ឬសៀវភៅគ្រួសារ បើនាងមាន",
               "as on her ID card or family book, if she has one")),
    text("given_name_km", ("នាមខ្លួន (អក្សរខ្មែរ)", "Given name (Khmer letters)"), required=True),
    text("name_latin", ("ឈ្មោះជាអក្សរឡាតាំង តាមដែលនាងសរសេរ",
                        "Name in Latin letters, as she writes it")),
    text("nicknames", ("ឈ្មោះហៅក្រៅ ឬឈ្មោះពេលធ្វើការ", "Nickname or work name"),
         hint=("បើមានច្រើន ដាក់សញ្ញាក្បៀស (,) ចន្លោះ", "separate with commas")),
    end_group(),
    # Her workplace is asked of everyone (a child's case needs the place).
    Row("select_one yes_no", "workplace_in_list",
        ("តើកន្លែងធ្វើការរបស់នាងមាននៅក្នុងបញ្ជីទេ?", "Is her workplace in the list?"),
        required=True),
    Row("select_one_from_file workplaces.csv", "workplace",
        ("កន្លែងធ្វើការរបស់នាង", "Her workplace"),
        hint=("វាយពាក្យខ្លះនៃឈ្មោះ ដើម្បីស្វែងរក", "type part of the name to search"),
        required=True, relevant="${workplace_in_list}='yes'", appearance="autocomplete"),
    text("workplace_new_name", ("ឈ្មោះកន្លែងធ្វើការ ដូចនៅលើស្លាកយីហោ",
                                "Workplace name, as on the sign"),
         required=True, relevant="${workplace_in_list}='no'"),
    Row("select_one workplace_type", "workplace_new_type", ("ប្រភេទកន្លែង", "Type of place"),
        required=True, relevant="${workplace_in_list}='no'"),
    # Item 3: a new workplace has a place, so it reaches the lists of the phones of that
    # commune and can be matched (same questions as the visit's rows 11-13).
    *new_workplace_place("workplace_new", "${workplace_in_list}='no'"),
    # Rows 26-45: adults only.
    begin_group("g_adult", IS_ADULT),
    Row("select_one sector", "sector", ("តើនាងធ្វើការងារអ្វី?", "What work does she do?"),
        required=True),
    Row("integer", "months_in_work",
        ("តើនាងធ្វើការងារនេះបានប៉ុន្មានខែហើយ?", "How many months has she done this work?"),
        constraint=between(0, 600),
        constraint_message=("វាយចំនួនខែ ពី ០ ដល់ ៦០០", "type the number of months, 0 to 600")),
    Row("select_one recruit_channel", "recruited_via",
        ("តើអ្នកណានាំនាងមកធ្វើការងារនេះ?", "Who brought her to this work?"), required=True),
    Row("select_one_from_file provinces.csv", "origin_province",
        ("ខេត្តកំណើត", "Home province"), appearance="autocomplete"),
    Row("select_one_from_file districts.csv", "origin_district",
        ("ស្រុក/ខណ្ឌកំណើត", "Home district"), appearance="autocomplete",
        choice_filter="province=${origin_province}"),
    Row("select_one_from_file communes.csv", "origin_commune",
        ("ឃុំ/សង្កាត់កំណើត", "Home commune"), appearance="autocomplete",
        choice_filter="district=${origin_district}"),
    # Her home village is typed, not chosen from the country's 14,000 villages: that list
    # (966 KB) took ODK's web engine about 3 s of CPU to open and fill the form, and a cheap
    # phone suffers the same (issue 9 item 1). The server finds the village code by its name
    # among the chosen commune's villages (server/sync/match: village resolver).
    text("origin_village_text", ("ឈ្មោះភូមិកំណើត តាមដែលនាងនិយាយ", "Home village, its name as she says it")),
    Row("select_one phone_owner", "phone_owner",
        ("តើបុគ្គលិកអាចទាក់ទងនាងតាមទូរស័ព្ទបានទេ? ទូរស័ព្ទនោះជារបស់អ្នកណា?",
         "Can staff reach her by phone? Whose phone is it?")),
    Row("text", "phone", ("លេខទូរស័ព្ទ", "Phone number"),
        hint=("លេខខ្មែរ ឬលេខឡាតាំង ដកឃ្លា ឬសញ្ញា - ក៏បាន", "Khmer or Latin digits; spaces "
              "and dashes are fine"),
        relevant="${phone_owner}='own' or ${phone_owner}='family'", appearance="numbers",
        constraint=PHONE_CONSTRAINT,
        constraint_message=("វាយលេខទូរស័ព្ទ ៩ ឬ ១០ ខ្ទង់ ចាប់ផ្ដើមដោយ 0 ឬ +855 "
                            "ឧទាហរណ៍ ០១២ ៣៤៥ ៦៧៨",
                            "type the phone number, 9 or 10 digits starting with 0 or +855, "
                            "e.g. 012 345 678")),
    Row("select_one id_card", "id_card",
        ("តើនាងកាន់អត្តសញ្ញាណប័ណ្ណរបស់នាងខ្លួនឯងទេ?", "Does she keep her own ID card?"),
        required=True),
    Row("select_multiple fl_indicators", "fl_screen",
        ("ក្នុងការងារនេះ តើមានរឿងណាមួយខាងក្រោមកើតឡើងចំពោះនាងទេ?",
         "In this work, has any of these happened to her?"),
        required=True, constraint=FL_EXCLUSIVE, constraint_message=MSG_FL_EXCLUSIVE),
    Row("select_multiple interests", "interests",
        ("តើនាងចង់បានជំនួយអ្វីខ្លះ?", "What help does she want?")),
    Row("select_one_from_file savings_groups.csv", "savings_group",
        ("ក្រុមសន្សំ", "Savings group"), relevant="selected(${interests},'savings')",
        save_to="savings_group"),
    Row("select_one yes_no", "health_now",
        ("តើនាងចង់បានជំនួយទៅសេវាសុខភាពឥឡូវនេះទេ?",
         "Does she want help to see a health service now?"), required=True),
    Row("select_one yes_no", "legal_now",
        ("តើនាងចង់បានជំនួយអំពីបញ្ហាច្បាប់ឥឡូវនេះទេ?",
         "Does she want help with a legal problem now?"), required=True),
    Row("select_one contact_method", "safe_contact",
        ("តើបុគ្គលិកអាចទាក់ទងនាងដោយសុវត្ថិភាពតាមរបៀបណា?", "How can staff contact her safely?")),
    text("note", ("កំណត់ចំណាំ (កុំសរសេរឈ្មោះអ្នកដទៃ)", "Note (no names of other people)"),
         hint=HINT_NO_NAMES),
    end_group(),
    # Correction 6 and item 4: the closing notes say in plain words what happens next (the
    # server recomputes every rule, domain.md 3.4; these are only for the collector).
    calc("fl_strong", f"if({FL1_STRONG}, 'yes', 'no')"),
    calc("fl_other_n", FL1_OTHER_N),
    calc("next_step",
         "if(${is_minor}='yes' or ${fl_strong}='yes', 'urgent', "
         "if(${fl_other_n} >= 2 or ${health_now}='yes' or ${legal_now}='yes' or "
         "(${recruited_via}='broker_recruiter' and selected(${fl_screen},'deception')), "
         "'follow_up', 'none'))"),
    note("n_summary", ("លេខកូដសមាជិក ${member_code} ត្រូវបានរក្សាទុក។ "
                       "ផ្ញើទម្រង់នេះពេលមានអ៊ីនធឺណិត។",
                       "Member code ${member_code} is saved. Send this form when you have "
                       "a connection."), relevant=IS_ADULT),
    note("n_next_urgent",
         ("នាងប្រហែលជាកំពុងត្រូវគេបង្ខំឱ្យធ្វើការ។ ទូរស័ព្ទទៅបុគ្គលិក KWCD ឥឡូវនេះ។ "
          "ពេលទម្រង់នេះទៅដល់ បុគ្គលិកនឹងបើកករណីបន្ទាន់ ហើយទាក់ទងនាងតាមរបៀបដែលនាងបានជ្រើស។",
          "She may be forced to work. Call KWCD staff now. When this form arrives, staff open "
          "an urgent case and contact her the way she chose."),
         relevant=f"{IS_ADULT} and ${{next_step}}='urgent'"),
    note("n_next_follow_up",
         ("បុគ្គលិក KWCD នឹងទាក់ទងនាងក្នុងរយៈពេលមួយសប្ដាហ៍ "
          "អំពីជំនួយដែលនាងបានសុំ ឬបញ្ហាដែលនាងបានប្រាប់អ្នក។",
          "KWCD staff will contact her within a week about the help she asked for or the "
          "problems she told you about."),
         relevant=f"{IS_ADULT} and ${{next_step}}='follow_up'"),
    note("n_minor_end",
         ("កុំសួរអ្វីទៀត។ ផ្ញើទម្រង់នេះឥឡូវនេះ៖ បុគ្គលិកនឹងបើកករណីការពារកុមារ "
          "ភ្លាមៗពេលទម្រង់មកដល់។ ទូរស័ព្ទទៅបុគ្គលិក KWCD ឥឡូវនេះ។",
          "Ask nothing more. Send this form now: staff open a child-protection case as soon as "
          "it arrives. Call KWCD staff now."),
         relevant="${is_minor}='yes'"),
    end_group(),
]

MEMBER_INTAKE_CHOICES = {
    **{k: CHOICES[k] for k in ("yes_no", "yes_no_dk", "zodiac", "age_source", "phone_owner",
                               "sector", "workplace_type", "recruit_channel", "fl_indicators")},
    "id_card": [
        ("yes", "បាទ/ចាស នាងកាន់ខ្លួនឯង", "Yes, she keeps it"),
        ("never_had", "មិនដែលមាន", "Never had one"),
        ("held_by_employer", "ម្ចាស់ការងារយកទុក", "The employer keeps it"),
        ("lost", "បាត់", "Lost"),
        DONT_KNOW,
    ],
    "interests": [
        ("savings", "សន្សំប្រាក់", "Savings"),
        ("rights_training", "វគ្គអំពីសិទ្ធិ", "Rights training"),
        ("vocational", "វគ្គជំនាញវិជ្ជាជីវៈ", "Vocational training"),
        ("health", "សុខភាព", "Health"),
        ("legal", "ជំនួយផ្លូវច្បាប់", "Legal help"),
        ("counselling", "ការប្រឹក្សាផ្លូវចិត្ត", "Counselling"),
        ("other_job", "ការងារផ្សេង", "Another job"),
        ("return_home", "ត្រឡប់ទៅផ្ទះវិញ", "Going back home"),
    ],
    "contact_method": [
        ("via_pe_only", "តាមរយៈអ្នកអប់រំមិត្តប៉ុណ្ណោះ", "Only through the peer educator"),
        ("sms", "ផ្ញើសារ SMS", "SMS"),
        ("call", "ទូរស័ព្ទ", "Phone call"),
        ("no_contact", "កុំទាក់ទង", "Do not contact"),
    ],
}

MEMBER_INTAKE = Form(
    form_id="member_intake",
    title="ចុះឈ្មោះសមាជិក / Member intake",
    instance_name="concat('MI ', ${member_code}, ' ', ${today_calc})",
    survey=MEMBER_INTAKE_SURVEY,
    choices=MEMBER_INTAKE_CHOICES,
    images=True,
    entities={
        "list_name": "members",
        "label": "${member_code}",
        "create_if": "${consent}='yes' and ${is_minor}='no'",
    },
)

# --------------------------------------------------------------------------- #
# Form 2: workplace_visit (domain.md 3.2 + corrections 10-15)
# --------------------------------------------------------------------------- #
NEW_WP = "${workplace_in_list}='no'"
U18_FLAG = "(${u18_suspected}='yes' or ${u18_suspected}='unsure')"
FL2_ANY = (
    "(count-selected(${fl_seen}) > 0 and not(selected(${fl_seen},'none')) "
    "and not(selected(${fl_seen},'dont_know')))"
)
# Correction 14: derived indicators count too; an indicator counts once however it is known.
FL2_STRONG = f"({any_selected('${fl_seen}', STRONG_INDICATORS)} or ${{locked_in}}='yes')"
FL2_OTHER_N = " + ".join([
    "if(selected(${fl_seen},'vulnerability'), 1, 0)",
    "if(selected(${fl_seen},'deception'), 1, 0)",
    "if(selected(${fl_seen},'isolation'), 1, 0)",
    "if(selected(${fl_seen},'wage_withholding') or ${pay_type}='not_paid_yet', 1, 0)",
    "if(selected(${fl_seen},'abusive_conditions') or ${forced_drinking}='yes', 1, 0)",
    "if(selected(${fl_seen},'overtime') or ${shift_hours} > 12 or ${days_off}='none', 1, 0)",
])
NUM_300 = msg_number("០", "៣០០", "0", "300")

WORKPLACE_VISIT_SURVEY = [
    *META,
    Row("select_one_from_file collectors.csv", "collector", COLLECTOR_LABEL, required=True),
    Row("date", "visit_date", ("ថ្ងៃចុះទៅកន្លែងការងារ", "Date of the visit"), required=True,
        default="today()", constraint=". <= today() and . >= today() - 30",
        constraint_message=("ជ្រើសថ្ងៃនេះ ឬថ្ងៃណាមួយក្នុង ៣០ ថ្ងៃមុន",
                            "choose today or a day in the last 30 days"),
        save_to="last_visit_date"),
    # Correction 10: rows 6, 7, 16, 18 required (blank entity id / blank save_to wipes).
    Row("select_one yes_no", "workplace_in_list",
        ("តើកន្លែងការងារនេះមាននៅក្នុងបញ្ជីទេ?", "Is the workplace in the list?"), required=True),
    Row("select_one_from_file workplaces.csv", "workplace", ("កន្លែងការងារ", "Workplace"),
        hint=("វាយពាក្យខ្លះនៃឈ្មោះ ដើម្បីស្វែងរក", "type part of the name to search"),
        required=True, relevant="${workplace_in_list}='yes'", appearance="autocomplete"),
    # Rows 8-14: a new workplace is a candidate for the server, never created on the phone.
    text("wp_new_name_km", ("ឈ្មោះនៅលើស្លាកយីហោ ជាអក្សរខ្មែរ", "Name on the sign, in Khmer"),
         relevant=NEW_WP),
    text("wp_new_name_latin", ("ឈ្មោះនៅលើស្លាកយីហោ ជាអក្សរឡាតាំង",
                               "Name on the sign, in Latin letters"), relevant=NEW_WP),
    Row("select_one workplace_type", "wp_new_type", ("ប្រភេទកន្លែង", "Type of place"),
        required=True, relevant=NEW_WP),
    *new_workplace_place("wp", NEW_WP),
    Row("geopoint", "wp_location",
        ("ទីតាំង (លុះត្រាតែមានសុវត្ថិភាពក្នុងការឈរនៅខាងក្រៅ)",
         "Location (only if it is safe to stand outside)"), relevant=NEW_WP),
    Row("select_one visit_type", "visit_type", ("ហេតុអ្វីចុះមកលើកនេះ?", "Why this visit?"),
        required=True),
    Row("select_one access", "access", ("តើអ្នកអាចចូលខាងក្នុងបានទេ?", "Could you go in?"),
        required=True, save_to="last_access"),
    Row("select_one attitude", "manager_attitude",
        ("តើម្ចាស់ ឬអ្នកគ្រប់គ្រងមានអាកប្បកិរិយាយ៉ាងណា?", "How was the owner or manager?")),
    Row("integer", "n_workers_est",
        ("តើមានស្ត្រីធ្វើការនៅទីនេះប្រហែលប៉ុន្មាននាក់?", "About how many women work here?"),
        required=True, constraint=between(0, 300), constraint_message=NUM_300,
        save_to="workers_est"),
    # Correction 12: required, so row 20's bound works. Decision: members counted are
    # among the women she talked to (she only knows a member is there if she met her).
    Row("integer", "n_met", ("តើអ្នកបាននិយាយជាមួយស្ត្រីប៉ុន្មាននាក់?",
                             "How many women did you talk to?"),
        required=True, constraint=between(0, 300), constraint_message=NUM_300),
    Row("integer", "n_members_present",
        ("ក្នុងចំណោមស្ត្រីដែលអ្នកបាននិយាយជាមួយ តើមានសមាជិកបណ្ដាញប៉ុន្មាននាក់?",
         "Of the women you talked to, how many are network members?"),
        constraint=between(0, "${n_met}"),
        constraint_message=("វាយចំនួន ពី ០ ដល់ចំនួនស្ត្រីដែលអ្នកបាននិយាយជាមួយ",
                            "type a number from 0 to the number of women you talked to")),
    Row("select_one yes_no_unsure", "u18_suspected",
        ("តើអ្នកបានឃើញ ឬឮថាមានអ្នកអាយុក្រោម ១៨ ឆ្នាំធ្វើការនៅទីនេះទេ?",
         "Did you see or hear of anyone under 18 working here?"), required=True),
    # Correction 13.
    Row("integer", "n_u18", ("ប៉ុន្មាននាក់?", "How many?"), relevant=U18_FLAG,
        constraint=between(1, 300), constraint_message=msg_number("១", "៣០០", "1", "300")),
    Row("select_multiple u18_signs", "u18_signs",
        ("ហេតុអ្វីបានជាអ្នកគិតដូច្នេះ?", "Why do you think so?"), relevant=U18_FLAG),
    Row("select_multiple fl_indicators", "fl_seen",
        ("តើអ្នកបានឃើញ ឬឮរឿងណាមួយខាងក្រោមទេ?", "Did you see or hear any of these?"),
        required=True, constraint=FL_EXCLUSIVE, constraint_message=MSG_FL_EXCLUSIVE),
    Row("select_one fl_source", "fl_source", ("តើអ្នកដឹងដោយរបៀបណា?", "How do you know?"),
        relevant=FL2_ANY),
    Row("select_multiple_from_file members.csv", "members_affected",
        ("តើសមាជិកបណ្ដាញណាខ្លះរងផលប៉ះពាល់? (លេខកូដ)",
         "Which network members are affected? (codes)"),
        relevant=f"{U18_FLAG} or {FL2_ANY}", appearance="autocomplete"),
    Row("select_one yes_no_dk", "live_on_site",
        ("តើស្ត្រីស្នាក់នៅកន្លែងធ្វើការទេ?", "Do women live at the workplace?")),
    # Item 4: every question a rule of 3.4 reads is required and offers "don't know", so a
    # skipped question can never silently suppress an alert.
    Row("select_one yes_no_dk", "locked_in",
        ("តើគេចាក់សោពួកនាង ឬមិនឱ្យចេញក្រៅក្រោយម៉ោងធ្វើការទេ?",
         "Are they locked in, or not allowed out after work?"), required=True),
    Row("select_one yes_no_dk", "forced_drinking",
        ("តើគេបង្ខំពួកនាងឱ្យផឹកស្រាជាមួយភ្ញៀវទេ?", "Are they made to drink with customers?"),
        required=True),
    Row("select_one yes_no_dk", "shift_known",
        ("តើអ្នកដឹងថាវេនធ្វើការធម្មតាមានប៉ុន្មានម៉ោងទេ?",
         "Do you know how many hours a normal shift is?"), required=True),
    Row("integer", "shift_hours",
        ("តើវេនធ្វើការធម្មតាមានប៉ុន្មានម៉ោង?", "How many hours is a normal shift?"),
        required=True, relevant="${shift_known}='yes'", constraint=between(0, 24),
        constraint_message=("វាយចំនួនម៉ោង ពី ០ ដល់ ២៤", "type the number of hours, 0 to 24")),
    Row("select_one days_off", "days_off", ("ថ្ងៃឈប់សម្រាកក្នុងមួយខែ", "Days off per month"),
        required=True),
    Row("select_one pay_type", "pay_type",
        ("តើគេបើកប្រាក់ឈ្នួលឱ្យពួកនាងដោយរបៀបណា?", "How are they paid?"), required=True),
    Row("select_one yes_no_dk", "condoms_available",
        ("តើមានស្រោមអនាម័យនៅទីនោះទេ?", "Are condoms available?")),
    Row("select_one training_permission", "training_allowed",
        ("តើម្ចាស់អនុញ្ញាតឱ្យស្ត្រីទៅវគ្គបណ្ដុះបណ្ដាលរបស់ KWCD ទេ?",
         "Does the owner let the women go to KWCD training?")),
    Row("select_multiple activities", "activities", ("តើអ្នកបានធ្វើអ្វីខ្លះ?", "What did you do?"),
        constraint="not(selected(.,'none') and count-selected(.)>1)",
        constraint_message=("បើជ្រើស «គ្មាន» កុំជ្រើសចម្លើយផ្សេងទៀត",
                            "if you choose 'none', choose nothing else")),
    Row("integer", "n_leaflets",
        ("ខិត្តប័ណ្ណ ឬសៀវភៅតូចប៉ុន្មាន?", "How many leaflets or booklets?"),
        relevant="selected(${activities},'leaflets')", constraint=between(0, 500),
        constraint_message=msg_number("០", "៥០០", "0", "500")),
    Row("select_one yes_no", "hotline_called",
        ("តើអ្នក ឬនរណាម្នាក់បានទូរស័ព្ទទៅលេខបន្ទាន់របស់ប៉ូលិសអំពីកន្លែងនេះនៅថ្ងៃនេះទេ?",
         "Did you or someone call the police hotline about this place today?")),
    Row("select_one pe_safety", "pe_safety",
        ("តើអ្នកមានអារម្មណ៍ថាមានសុវត្ថិភាពក្នុងពេលចុះលើកនេះទេ?",
         "Did you feel safe during this visit?"), required=True),
    text("note", ("កំណត់ចំណាំ (កុំសរសេរឈ្មោះ)", "Note (no names)"), hint=HINT_NO_NAMES),
    # Correction 14: the flag is an expression. Shown to the PE only; never saved to
    # the entity (risk never goes back to phones).
    calc("fl_strong", f"if({FL2_STRONG}, 'yes', 'no')"),
    calc("fl_other_n", FL2_OTHER_N),
    calc("risk_flag",
         f"if({U18_FLAG} or ${{fl_strong}}='yes' or ${{fl_other_n}} >= 2, 'red', "
         "if(${fl_other_n} = 1 or ${access}='refused', 'amber', 'green'))"),
    note("n_summary_red", ("បន្ទាន់៖ ទូរស័ព្ទទៅបុគ្គលិក KWCD ឥឡូវនេះ។ ពេលទម្រង់នេះទៅដល់ "
                           "បុគ្គលិកនឹងបើកករណីអំពីកន្លែងនេះ ហើយទាក់ទងអ្នក។",
                           "Urgent: call KWCD staff now. When this form arrives, staff open a "
                           "case about this place and contact you."),
         relevant="${risk_flag}='red'"),
    note("n_summary_amber", ("មានបញ្ហាខ្លះ៖ បុគ្គលិក KWCD នឹងតាមដានកន្លែងនេះ។ "
                             "ប្រាប់ពួកគេក្នុងសប្ដាហ៍នេះ។",
                             "Some problems: KWCD staff will keep an eye on this place. "
                             "Tell them this week."),
         relevant="${risk_flag}='amber'"),
    note("n_summary_green", ("មិនឃើញបញ្ហាធំទេ។ សូមអរគុណ។", "No big problems seen. Thank you."),
         relevant="${risk_flag}='green'"),
    note("n_pe_threatened", ("អ្នកត្រូវគេគំរាម៖ ចាកចេញទៅកន្លែងមានសុវត្ថិភាព "
                             "ហើយទូរស័ព្ទទៅបុគ្គលិក KWCD ឥឡូវនេះ។",
                             "You were threatened: go somewhere safe and call KWCD staff now."),
         relevant="${pe_safety}='threatened'"),
]

WORKPLACE_VISIT_CHOICES = {
    **{k: CHOICES[k] for k in ("yes_no", "yes_no_dk", "yes_no_unsure", "workplace_type",
                               "fl_indicators")},
    "visit_type": [
        ("routine", "ចុះធម្មតា", "Routine"),
        ("follow_up", "តាមដាន", "Follow-up"),
        ("tip_received", "មានគេប្រាប់ព័ត៌មាន", "Someone told us something"),
        ("outreach_session", "វគ្គផ្សព្វផ្សាយ", "Outreach session"),
    ],
    "access": [
        ("inside_freely", "ចូលបានដោយសេរី", "Went in freely"),
        ("inside_after_negotiation", "ចូលបានក្រោយពិភាក្សា", "Went in after talking"),
        ("outside_only", "នៅខាងក្រៅប៉ុណ្ណោះ", "Outside only"),
        ("refused", "គេមិនឱ្យចូល", "Refused"),
    ],
    "attitude": [
        ("supportive", "គាំទ្រ", "Supportive"),
        ("neutral", "ធម្មតា", "Neutral"),
        ("hostile", "មិនរាក់ទាក់ ឬប្រឆាំង", "Hostile"),
        ("not_met", "មិនបានជួប", "Did not meet"),
    ],
    "u18_signs": [
        ("looks_young", "មើលទៅក្មេង", "Looks young"),
        ("said_under_18", "នាងនិយាយថាអាយុក្រោម ១៨", "Said she is under 18"),
        ("no_id", "គ្មានអត្តសញ្ញាណប័ណ្ណ", "No ID card"),
        ("others_said", "អ្នកផ្សេងប្រាប់", "Others said so"),
        ("school_age", "អាយុរៀនសាលា", "School age"),
        ("just_arrived_from_province", "ទើបមកពីខេត្ត", "Just arrived from the province"),
    ],
    "fl_source": [
        ("observed", "ខ្ញុំឃើញផ្ទាល់", "I saw it"),
        ("told_by_worker", "ស្ត្រីធ្វើការនៅទីនោះប្រាប់", "A woman working there told me"),
        ("told_by_others", "អ្នកផ្សេងប្រាប់", "Others told me"),
    ],
    "days_off": [
        ("none", "គ្មានថ្ងៃឈប់", "None"),
        ("1_2", "១ ឬ ២ ថ្ងៃ", "1 or 2"),
        ("3_4", "៣ ឬ ៤ ថ្ងៃ", "3 or 4"),
        ("more_than_4", "ច្រើនជាង ៤ ថ្ងៃ", "More than 4"),
        DONT_KNOW,
    ],
    "pay_type": [
        ("salary", "ប្រាក់ខែ", "Salary"),
        ("commission_only", "កម្រៃជើងសារប៉ុណ្ណោះ", "Commission only"),
        ("tips_only", "លុយធ្វើទានពីភ្ញៀវប៉ុណ្ណោះ", "Tips only"),
        ("not_paid_yet", "មិនទាន់បានបើកប្រាក់", "Not paid yet"),
        DONT_KNOW,
    ],
    "training_permission": [
        ("yes", "បាទ/ចាស", "Yes"),
        ("daytime_only", "បានតែពេលថ្ងៃ", "Daytime only"),
        ("no", "ទេ", "No"),
        ("not_asked", "មិនទាន់បានសួរ", "Not asked"),
    ],
    "activities": [
        ("leaflets", "ចែកខិត្តប័ណ្ណ", "Leaflets"),
        ("rights_talk", "និយាយអំពីសិទ្ធិ", "Talk about rights"),
        ("savings_collection", "ប្រមូលប្រាក់សន្សំ", "Savings collection"),
        ("health_info", "ព័ត៌មានសុខភាព", "Health information"),
        ("hotline_number", "ផ្ដល់លេខទូរស័ព្ទជំនួយ", "Gave the hotline number"),
        ("negotiated_with_owner", "ពិភាក្សាជាមួយម្ចាស់", "Talked with the owner"),
        ("none", "គ្មាន", "None"),
    ],
    "pe_safety": [
        ("safe", "មានសុវត្ថិភាព", "Safe"),
        ("uneasy", "មិនសូវស្រួលចិត្ត", "Uneasy"),
        ("threatened", "ត្រូវគេគំរាម", "Threatened"),
    ],
}

WORKPLACE_VISIT = Form(
    form_id="workplace_visit",
    title="ចុះទៅកន្លែងការងារ / Workplace visit",
    instance_name="concat('WV ', ${visit_date})",
    survey=WORKPLACE_VISIT_SURVEY,
    choices=WORKPLACE_VISIT_CHOICES,
    images=True,
    # Update-only (3.2): new workplaces are created by the server after a duplicate check.
    entities={
        "list_name": "workplaces",
        "entity_id": "${workplace}",
        "update_if": "${workplace_in_list}='yes'",
    },
)

# --------------------------------------------------------------------------- #
# Form 3: village_data (domain.md 3.3 + corrections 16-21)
# --------------------------------------------------------------------------- #
MSG_UPTO_LEFT = ("វាយចំនួន ពី ០ ដល់ចំនួនអ្នកដែលបានចាកចេញ",
                 "type a number from 0 to the number who left")

VILLAGE_DATA_SURVEY = [
    *META,
    Row("select_one_from_file collectors.csv", "collector", COLLECTOR_LABEL, required=True),
    Row("select_one reporter_role", "reporter_role", ("តួនាទីរបស់អ្នក", "Your role"),
        required=True),
    # Corrections 17-18: the key (village, month) is required; the month is normalised.
    Row("date", "period", ("តើរបាយការណ៍នេះសម្រាប់ខែណា?", "Which month is this report for?"),
        required=True, appearance="month-year", constraint=". <= today()",
        constraint_message=("ជ្រើសខែនេះ ឬខែមុនៗ", "choose this month or an earlier month")),
    calc("period_ym", "format-date(${period}, '%Y-%m')"),
    # Correction 16 and item 1: the server serves each account its own communes and their
    # villages (a few KB, no national list on a village phone).
    Row("select_one_from_file area_communes.csv", "commune", ("ឃុំ/សង្កាត់", "Commune"),
        required=True),
    Row("select_one_from_file area_villages.csv", "village", ("ភូមិ", "Village"), required=True,
        choice_filter="commune=${commune}"),
    Row("integer", "n_households",
        ("ចំនួនគ្រួសារក្នុងភូមិ (តាមសៀវភៅភូមិ)", "Households in the village (from the village book)"),
        constraint=between(0, 5000), constraint_message=msg_number("០", "៥០០០", "0", "5000")),
    Row("integer", "n_left",
        ("ចំនួនមនុស្សដែលបានចាកចេញទៅធ្វើការនៅកន្លែងផ្សេងក្នុងខែនេះ",
         "People who left this month to work elsewhere"),
        required=True, constraint=between(0, 1000),
        constraint_message=msg_number("០", "១០០០", "0", "1000")),
    # Correction 19.
    Row("integer", "n_left_women_15_24",
        ("ក្នុងចំណោមពួកគេ ស្ត្រី និងក្មេងស្រីអាយុ ១៥-២៤ ឆ្នាំ", "Of them, women and girls aged 15–24"),
        constraint=between(0, "${n_left}"), constraint_message=MSG_UPTO_LEFT),
    # Item 4: the U18-V counts are required (0 is an answer; blank is not).
    Row("integer", "n_left_under18", ("ក្នុងចំណោមពួកគេ អាយុក្រោម ១៨ ឆ្នាំ", "Of them, under 18"),
        hint=("បើគ្មាន វាយ ០", "type 0 if none"), required=True, relevant="${n_left} > 0",
        constraint=between(0, "${n_left}"), constraint_message=MSG_UPTO_LEFT),
    Row("select_multiple destinations", "destinations", ("តើពួកគេទៅណា?", "Where did they go?"),
        relevant="${n_left} > 0"),
    Row("integer", "n_left_via_broker",
        ("តើប៉ុន្មាននាក់ទៅជាមួយមេខ្យល់ ឬអ្នកជ្រើសរើសកម្មករ?",
         "How many went with a broker or recruiter?"),
        constraint=between(0, "${n_left}"), constraint_message=MSG_UPTO_LEFT),
    Row("integer", "n_returned",
        ("ចំនួនមនុស្សដែលបានត្រឡប់មកវិញក្នុងខែនេះ", "People who came back this month"),
        required=True, constraint=between(0, 1000),
        constraint_message=msg_number("០", "១០០០", "0", "1000")),
    Row("integer", "n_returned_need_help",
        ("ក្នុងចំណោមពួកគេ អ្នកត្រូវការជំនួយ (ឈឺ របួស ជំពាក់បំណុល គ្មានលុយ)",
         "Of them, need help (sick, hurt, in debt, no money)"),
        constraint=between(0, "${n_returned}"),
        constraint_message=("វាយចំនួន ពី ០ ដល់ចំនួនអ្នកដែលបានត្រឡប់មកវិញ",
                            "type a number from 0 to the number who came back")),
    Row("integer", "n_children_working_away",
        ("កុមារអាយុក្រោម ១៨ ឆ្នាំ ដែលធ្វើការនៅកន្លែងកម្សាន្ត ឬធ្វើការឆ្ងាយពីផ្ទះ",
         "Children under 18 working in entertainment places or away from home"),
        hint=("បើគ្មាន វាយ ០", "type 0 if none"), required=True, constraint=between(0, 500),
        constraint_message=msg_number("០", "៥០០", "0", "500")),
    Row("integer", "n_venues",
        ("ខារ៉ាអូខេ សួនស្រាបៀរ កន្លែងម៉ាស្សា និងផ្ទះសំណាក់ក្នុងភូមិ",
         "Karaoke, beer gardens, massage places and guesthouses in the village"),
        required=True, constraint=between(0, 200),
        constraint_message=msg_number("០", "២០០", "0", "200")),
    # Correction 20: required count; the repeat sits in a group so 0 shows no repeat.
    Row("integer", "n_new_venues", ("កន្លែងថ្មីដែលបើកក្នុងខែនេះ", "New ones opened this month"),
        required=True, constraint=between(0, "${n_venues}"),
        constraint_message=("វាយចំនួន ពី ០ ដល់ចំនួនកន្លែងទាំងអស់ខាងលើ",
                            "type a number from 0 to the number of places above")),
    begin_group("g_new_venues", "${n_new_venues} > 0"),
    Row("begin_repeat", "new_venue", ("កន្លែងថ្មី", "New place"),
        repeat_count="if(${n_new_venues} > 5, 5, ${n_new_venues})"),
    text("nv_name", ("ឈ្មោះរបស់វា ដូចនៅលើស្លាកយីហោ", "Its name, as on the sign")),
    Row("select_one workplace_type", "nv_type", ("ប្រភេទ", "Type")),
    Row("end_repeat"),
    end_group(),
    Row("select_one yes_no", "any_concern",
        ("តើមានមនុស្ស ឬកន្លែងណាដែលអ្នកព្រួយបារម្ភទេ "
         "(ការជួញដូរមនុស្ស កុមារធ្វើការ ពលកម្មដោយបង្ខំ អំពើហិង្សា មនុស្សបាត់ខ្លួន)?",
         "Is there a person or place you are worried about (trafficking, a child working, "
         "forced labour, violence, a missing person)?"),
        required=True),
    # Correction 21: at most 5, counted first.
    begin_group("g_concerns", "${any_concern}='yes'"),
    Row("integer", "n_concerns", ("តើមានប៉ុន្មានករណី? (១ ដល់ ៥)", "How many concerns? (1 to 5)"),
        required=True, constraint=between(1, 5),
        constraint_message=msg_number("១", "៥", "1", "5")),
    Row("begin_repeat", "case_alert", ("ករណីព្រួយបារម្ភ", "Concern"),
        repeat_count="${n_concerns}"),
    Row("select_one concern_type", "concern_type", ("ប្រភេទអ្វី?", "What kind?"), required=True),
    Row("select_one age_group", "age_group", ("អាយុរបស់មនុស្សនោះ", "Age of the person"),
        required=True),
    Row("select_one sex", "sex", ("ភេទ", "Sex")),
    Row("select_one where", "where", ("តើមនុស្សនោះនៅឯណា?", "Where is the person?"),
        required=True),
    Row("select_one_from_file workplaces.csv", "alert_workplace", ("កន្លែងណា?", "Which place?"),
        relevant="${where}='venue_in_village'", appearance="autocomplete"),
    Row("select_one urgency", "urgency", ("តើបន្ទាន់ប៉ុណ្ណា?", "How urgent?"), required=True),
    Row("select_one yes_no_dk", "police_informed",
        ("តើបានប្រាប់ប៉ូលិសហើយឬនៅ?", "Were the police told?")),
    Row("select_one yes_no", "ok_to_call_you",
        ("តើបុគ្គលិក KWCD អាចទូរស័ព្ទមកអ្នកអំពីរឿងនេះបានទេ?",
         "Can KWCD staff call you about this?")),
    Row("end_repeat"),
    end_group(),
    Row("integer", "n_sessions",
        ("វគ្គផ្សព្វផ្សាយដែលបានធ្វើក្នុងភូមិក្នុងខែនេះ",
         "Awareness sessions held in the village this month"),
        constraint=between(0, 31), constraint_message=msg_number("០", "៣១", "0", "31")),
    Row("integer", "n_part_f", ("ស្ត្រី និងក្មេងស្រីដែលបានចូលរួម", "Women and girls who took part"),
        relevant="${n_sessions} > 0", constraint=between(0, 1000),
        constraint_message=msg_number("០", "១០០០", "0", "1000")),
    Row("integer", "n_part_m", ("បុរស និងក្មេងប្រុសដែលបានចូលរួម", "Men and boys who took part"),
        relevant="${n_sessions} > 0", constraint=between(0, 1000),
        constraint_message=msg_number("០", "១០០០", "0", "1000")),
    text("comment", ("មតិ (កុំសរសេរឈ្មោះ)", "Comment (no names)"), hint=HINT_NO_NAMES),
    note("n_summary", ("សូមអរគុណ។ ករណីដែលបានជ្រើស «ឥឡូវនេះ» នឹងទៅដល់បុគ្គលិកភ្លាមៗ "
                       "ពេលផ្ញើទម្រង់នេះ។",
                       'Thank you. Concerns marked "now" go to staff as soon as this is sent.')),
]

VILLAGE_DATA_CHOICES = {
    **{k: CHOICES[k] for k in ("yes_no", "yes_no_dk", "workplace_type")},
    "reporter_role": [
        ("village_chief", "មេភូមិ", "Village chief"),
        ("deputy_chief", "អនុប្រធានភូមិ", "Deputy village chief"),
        ("commune_councillor", "ក្រុមប្រឹក្សាឃុំ/សង្កាត់", "Commune councillor"),
        ("commune_focal_women_children", "បង្គោលស្ត្រី និងកុមារ ឃុំ/សង្កាត់",
         "Commune focal point for women and children"),
        ("other", "ផ្សេងទៀត", "Other"),
    ],
    "destinations": [
        ("sihanoukville_town", "ក្រុងព្រះសីហនុ", "Sihanoukville town"),
        ("phnom_penh", "ភ្នំពេញ", "Phnom Penh"),
        ("other_province", "ខេត្តផ្សេង", "Another province"),
        ("thailand", "ប្រទេសថៃ", "Thailand"),
        ("other_country", "ប្រទេសផ្សេង", "Another country"),
        ("unknown", "មិនដឹង", "Don't know"),
    ],
    "concern_type": [
        ("missing_person", "មនុស្សបាត់ខ្លួន", "Missing person"),
        ("suspected_trafficking", "សង្ស័យការជួញដូរមនុស្ស", "Suspected trafficking"),
        ("child_in_venue", "កុមារធ្វើការនៅកន្លែងកម្សាន្ត", "Child in an entertainment place"),
        ("forced_labour", "ពលកម្មដោយបង្ខំ", "Forced labour"),
        ("violence_abuse", "អំពើហិង្សា ឬការរំលោភបំពាន", "Violence or abuse"),
        ("debt_bondage", "បំណុលដែលសងមិនរួច ហើយត្រូវធ្វើការសង", "Debt bondage"),
        ("other", "ផ្សេងទៀត", "Other"),
    ],
    "age_group": [
        ("under_15", "ក្រោម ១៥ ឆ្នាំ", "Under 15"),
        ("15_17", "១៥ ដល់ ១៧ ឆ្នាំ", "15 to 17"),
        ("18_24", "១៨ ដល់ ២៤ ឆ្នាំ", "18 to 24"),
        ("25_plus", "២៥ ឆ្នាំ ឬច្រើនជាង", "25 or older"),
        ("unknown", "មិនដឹង", "Don't know"),
    ],
    "sex": [
        ("female", "ស្រី", "Female"),
        ("male", "ប្រុស", "Male"),
        ("unknown", "មិនដឹង", "Don't know"),
    ],
    "where": [
        ("home_in_village", "នៅផ្ទះក្នុងភូមិ", "At home in the village"),
        ("venue_in_village", "នៅកន្លែងកម្សាន្តក្នុងភូមិ", "At a venue in the village"),
        ("elsewhere_in_province", "កន្លែងផ្សេងក្នុងខេត្ត", "Elsewhere in the province"),
        ("other_province", "ខេត្តផ្សេង", "Another province"),
        ("abroad", "នៅបរទេស", "Abroad"),
        ("unknown", "មិនដឹង", "Don't know"),
    ],
    "urgency": [
        ("now", "ឥឡូវនេះ", "Now"),
        ("this_week", "ក្នុងសប្ដាហ៍នេះ", "This week"),
        ("not_urgent", "មិនប្រញាប់", "Not urgent"),
    ],
}

VILLAGE_DATA = Form(
    form_id="village_data",
    title="ទិន្នន័យភូមិប្រចាំខែ / Monthly village data",
    instance_name="concat('VD ', ${village}, ' ', ${period_ym})",
    survey=VILLAGE_DATA_SURVEY,
    choices=VILLAGE_DATA_CHOICES,
)

FORMS = (MEMBER_INTAKE, WORKPLACE_VISIT, VILLAGE_DATA)

# --------------------------------------------------------------------------- #
# Writers
# --------------------------------------------------------------------------- #


def _sheet(wb: Workbook, title: str, columns: list[str], rows: list[dict[str, str]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(col, "") or None for col in columns])
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        width = 14 if not col.startswith(("label", "hint", "constraint_m", "required_m")) else 40
        ws.column_dimensions[ws.cell(1, i).column_letter].width = width


def write_xlsform(form: Form, path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "survey", SURVEY_COLUMNS, [r.cells() for r in form.survey])
    images = CHOICE_IMAGES if form.images else {}
    choice_rows = [
        {"list_name": list_name, "name": name, f"label::{KM}": km, f"label::{EN}": en,
         **dict.fromkeys(IMAGE_COLUMNS, images.get(list_name, {}).get(name, ""))}
        for list_name, items in form.choices.items()
        for name, km, en in items
    ]
    _sheet(wb, "choices", CHOICES_COLUMNS + (IMAGE_COLUMNS if images else []), choice_rows)
    settings = {
        "form_title": form.title, "form_id": form.form_id, "version": VERSION,
        "default_language": KM, "instance_name": form.instance_name,
    }
    _sheet(wb, "settings", SETTINGS_COLUMNS, [settings])
    if form.entities:
        _sheet(wb, "entities", list(form.entities), [form.entities])
    wb.save(path)


def build_forms(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for form in FORMS:
        path = out_dir / f"{form.form_id}.xlsx"
        write_xlsform(form, path)
        paths.append(path)
    return paths


# Placeholders for the per-collector lists the server generates later (domain.md 1.1).
# They hold one fictional demo row each, so the forms load in Collect and the web engine.
DEMO_COLLECTOR = "C000"
DEMO_SAVINGS_GROUP = "SG000"
DEMO_WORKPLACE_ID = "3f6c1b1e-8a7d-4c2e-9b5a-0d4e6f7a8b9c"
DEMO_MEMBER_ID = "9b2d4e6f-1a3c-4b5d-8e7f-6a5b4c3d2e1f"


def write_placeholder_csvs(media_dir: Path) -> None:
    import csv

    gaz = load_gazetteer()
    demo_communes = " ".join(c.code for c in gaz.communes if c.district_code == "1801")
    tables: dict[str, list[list[str]]] = {
        "collectors.csv": [
            ["name", "label", "communes"],
            [DEMO_COLLECTOR, "អ្នកសាកល្បង / Demo collector", demo_communes],
        ],
        "workplaces.csv": [
            ["name", "label", "__version", "last_visit_date", "last_access", "workers_est",
             "village", "type"],
            [DEMO_WORKPLACE_ID, "ខារ៉ាអូខេសាកល្បង / Demo karaoke", "1", "", "", "",
             "18010101", "karaoke"],
        ],
        "members.csv": [
            ["name", "label", "__version", "member_code", "pe_code", "savings_group"],
            [DEMO_MEMBER_ID, DEMO_MEMBER_CODE, "1", DEMO_MEMBER_CODE, DEMO_COLLECTOR,
             DEMO_SAVINGS_GROUP],
        ],
        "savings_groups.csv": [
            ["name", "label"],
            [DEMO_SAVINGS_GROUP, "ក្រុមសន្សំសាកល្បង / Demo savings group"],
        ],
    }
    # The demo account's area (server.sync.area_lists builds the real ones per account).
    demo_area = [c for c in gaz.communes if c.district_code == "1801"]
    tables["area_communes.csv"] = [["name", "label", "district", "province"]] + [
        [c.code, choice_label(c.name_km, c.name_en), c.district_code, c.province_code]
        for c in demo_area]
    area_codes = {c.code for c in demo_area}
    tables["area_villages.csv"] = [["name", "label", "commune"]] + [
        [v.code, choice_label(v.name_km, v.name_en), v.commune_code]
        for v in gaz.villages if v.commune_code in area_codes]
    media_dir.mkdir(parents=True, exist_ok=True)
    for filename, rows in tables.items():
        with (media_dir / filename).open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows(rows)


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        for path in build_forms(Path(argv[1])):
            print(path)
        return 0
    for path in build_forms(FORMS_DIR):
        print(path)
    write_media_csvs(MEDIA_DIR)
    write_placeholder_csvs(MEDIA_DIR)
    print(MEDIA_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
