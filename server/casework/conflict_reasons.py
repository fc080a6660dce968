"""Why an entity update was kept as a conflict, in words staff read (English, Khmer)."""

from __future__ import annotations

from typing import Any

#: EntityConflict.kind -> (English, Khmer)
REASONS: dict[str, tuple[str, str]] = {
    "soft": (
        "The phone updated an older copy of this workplace while another update arrived; "
        "different details changed, both were applied.",
        "ទូរស័ព្ទបានកែច្បាប់ចម្លងចាស់នៃកន្លែងធ្វើការនេះ ខណៈពេលមានការកែមួយទៀតមកដល់។ "
        "ព័ត៌មានផ្សេងគ្នាត្រូវបានកែ ហើយទាំងពីរត្រូវបានអនុវត្ត។",
    ),
    "hard": (
        "Two phones changed the same detail of this workplace from the same copy; the later "
        "visit's value is in force. Check which is right.",
        "ទូរស័ព្ទពីរបានកែព័ត៌មានដូចគ្នានៃកន្លែងធ្វើការនេះ ពីច្បាប់ចម្លងតែមួយ។ "
        "តម្លៃនៃការចុះជួបចុងក្រោយត្រូវបានប្រើ។ សូមពិនិត្យមើលថាមួយណាត្រឹមត្រូវ។",
    ),
    "area": (
        "The visit came from an account that does not work in this workplace's commune, so it "
        "did not change the workplace. The visit itself is kept.",
        "ការចុះជួបនេះមកពីគណនីដែលមិនធ្វើការនៅឃុំនៃកន្លែងធ្វើការនេះ ដូច្នេះវាមិនបានកែកន្លែងធ្វើការទេ។ "
        "ការចុះជួបខ្លួនឯងត្រូវបានរក្សាទុក។",
    ),
}


def conflict_reason(conflict: Any, lang: str) -> str:
    kind = str(getattr(conflict.kind, "value", conflict.kind))
    en, km = REASONS.get(kind, (kind, kind))
    return km if lang == "km" else en
