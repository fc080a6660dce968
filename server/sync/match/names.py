"""Name evidence of a pair (domain 4.4, issue 12): Khmer first, Latin only when Khmer cannot
decide, the romanised Khmer when one side has only Khmer and the other only Latin.

Khmer script wins over Latin: when both records carry Khmer given names that disagree, Latin
similarity is ignored and the pair can at most be "possible" (Sophea/Sopheap are one Latin
letter but two names). Spellings that differ only by what :mod:`.khmer` folds (a subscript, a
final consonant, vowel length) are the same name (``khmer_skeleton_equal``); one sound apart is
``khmer_skeleton_close``, never "strong". Names are compared across all fields: the records'
keys already moved Latin typed in a Khmer box to the Latin name and Khmer typed in the Latin
box to the Khmer name, and the Khmer comparison ignores which box held which token. Evidence
strings are codes, never names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from server.sync.match.khmer import khmer_skeleton, skeleton_distance
from server.sync.match.normalise import (
    junction_join,
    latin_coarse_key,
    latin_joined_keys,
    strip_khmer_srey,
)
from server.sync.match.records import MemberKeys

_LATIN_SIMILAR = 88.0
_TRANSLIT_SIMILAR = 80.0


@dataclass(frozen=True)
class NameEvidence:
    codes: tuple[str, ...] = ()
    strong: bool = False  # a name agreement that can make a pair "strong"
    cap: str | None = None  # why the pair can be "possible" at most


def _khmer_agree(a: MemberKeys, b: MemberKeys) -> bool:
    if a.km_given and a.km_given == b.km_given:
        return True
    if a.km_full and a.km_full == b.km_full:
        return True
    # Full name typed into the given-name box on one side.
    if a.km_given_tokens and set(a.km_given_tokens) <= set(b.km_full) and len(b.km_full) > 1:
        return set(b.km_given_tokens) <= set(a.km_full) or len(a.km_full) == 1
    if b.km_given_tokens and set(b.km_given_tokens) <= set(a.km_full) and len(a.km_full) > 1:
        return len(b.km_full) == 1
    return False


def _khmer_segmentation_variant(a: MemberKeys, b: MemberKeys) -> bool:
    def forms(k: MemberKeys) -> set[str]:
        out = {junction_join(strip_khmer_srey(k.km_given_tokens))}
        out.add(junction_join(strip_khmer_srey(k.km_full_seq)))
        return out

    return bool(forms(a) & forms(b))


def _compare_latin(a: MemberKeys, b: MemberKeys) -> tuple[str, bool]:
    """Best Latin evidence code and whether it is strong enough for "strong".

    Latin has no field for the family name, so a match on a one-token name
    is worth less than a match on family and given name together.
    """
    single = min(len(a.latin), len(b.latin)) < 2
    if Counter(a.latin) == Counter(b.latin) or a.latin_joined & b.latin_joined:
        return ("latin_single_name_equal" if single else "latin_name_equal"), True
    if a.latin_coarse_joined & b.latin_coarse_joined:
        return ("latin_single_name_coarse_equal" if single else "latin_name_coarse_equal"), True
    if (a.latin_coarse_joined & b.latin_coarse_parts) or (
        b.latin_coarse_joined & a.latin_coarse_parts
    ):
        return "latin_name_subset", True
    ratio = fuzz.token_set_ratio(" ".join(a.latin), " ".join(b.latin))
    if ratio >= _LATIN_SIMILAR or (a.latin_frames & b.latin_frames and not single):
        # Frames: romanisations of one Khmer name differ in vowels (Sokunthea/Sokonthea).
        return "latin_name_similar", False
    if set(a.latin_coarse_tokens) & set(b.latin_coarse_tokens):
        return "latin_name_token_shared", False
    return "latin_name_differs", False


def _compare_translit(latin: MemberKeys, khmer: MemberKeys) -> str | None:
    """A Latin-only name against the romanised Khmer-only name (weak: khmer.romanise)."""
    if not khmer.translit:
        return None
    if (latin.latin_coarse_joined & khmer.translit_parts) or (
        latin.latin_coarse_parts & {latin_coarse_key(j) for j in latin_joined_keys(khmer.translit)}
    ):
        return "translit_name_equal"
    if latin.latin_frames & khmer.translit_frames:
        return "translit_name_equal"
    token_level = _translit_by_frames(latin, khmer)
    if token_level:
        return token_level
    ratio = fuzz.token_set_ratio(
        " ".join(latin.latin_coarse_tokens), " ".join(latin_coarse_key(t) for t in khmer.translit)
    )
    # Nothing of the romanised Khmer name is in the Latin one: evidence against, as two Latin
    # names that differ are (its weight is fitted; romanisation misses weigh it down).
    return "translit_name_similar" if ratio >= _TRANSLIT_SIMILAR else "translit_name_differs"


def _translit_by_frames(latin: MemberKeys, khmer: MemberKeys) -> str | None:
    """The romanised Khmer given name found among the Latin name's tokens by consonant frame
    (Leakhena / លក្ខិណា read "lokhena"; Keo / កែវ read "kaev"): ``translit_name_equal`` when
    the family name is found too, or one side has none to compare; else
    ``translit_given_equal_family_differs`` (the given name, and another family name)."""
    parts = latin.latin_part_frames
    if not (khmer.translit_given_frames & parts):
        return None
    family = khmer.translit_family_frames
    if not family or family & parts or len(latin.latin) == 1:
        return "translit_name_equal"
    return "translit_given_equal_family_differs"


def _nickname_match(a: MemberKeys, b: MemberKeys) -> bool:
    if not (a.nicknames or b.nicknames):
        return False

    def names(k: MemberKeys) -> set[str]:
        # Every name field: nicknames, each Latin token and their joins, the romanised Khmer.
        return (set(k.nicknames) | set(k.latin_coarse_tokens) | set(k.latin_coarse_parts)
                | {latin_coarse_key(t) for t in k.translit} | set(k.translit_parts))  # fmt: skip

    return bool(a.nicknames & names(b)) or bool(b.nicknames & names(a))



def _skeleton_agree(a: MemberKeys, b: MemberKeys) -> bool:
    """The same name once subscripts, finals and vowel length are folded, in any box."""
    if a.km_given_skel and a.km_given_skel == b.km_given_skel:
        return True
    if a.km_full_skel and a.km_full_skel == b.km_full_skel:
        return True
    sa, sb = set(a.km_full_skel), set(b.km_full_skel)
    # Whole name in one box on one side, or the family name left out: one side's tokens are
    # all in the other's, and the given name of one of them is among them.
    nested = bool(sa and sb) and (sa <= sb or sb <= sa) and max(len(sa), len(sb)) > 1
    return nested and (a.km_given_skel in sb or b.km_given_skel in sa)


def _skeleton_close(a: MemberKeys, b: MemberKeys) -> bool:
    """Given names one sound apart (long enough for one sound to be a slip)."""
    ga, gb = a.km_given_skel, b.km_given_skel
    return bool(ga and gb and min(len(ga), len(gb)) >= 3 and skeleton_distance(ga, gb) <= 1)


def _family_codes(ka: MemberKeys, kb: MemberKeys) -> list[str]:
    """The family-name level, given whenever both records carry a Khmer family name, whatever
    the given names did: a level emitted only in some branches has no meaningful u.

    Women keep their family name; a swap of the two boxes, or the whole name in one box, still
    agrees (the family token of one is anywhere in the other's name), as does a spelling that
    differs only by what the skeleton folds."""
    if not (ka.km_family_tokens and kb.km_family_tokens):
        return []
    if set(ka.km_family_tokens) & set(kb.km_full_seq) or set(kb.km_family_tokens) & set(
        ka.km_full_seq
    ):
        return ["khmer_family_name_equal"]
    skel_a = {khmer_skeleton(t) for t in ka.km_family_tokens}
    skel_b = {khmer_skeleton(t) for t in kb.km_family_tokens}
    if skel_a & skel_b:
        return ["khmer_family_name_equal"]
    return ["khmer_family_name_differs"]


def _family_from_latin(ka: MemberKeys, kb: MemberKeys) -> list[str]:
    """The family-name level when only one side has a Khmer family name (the other left the
    box empty, or typed the whole name in one box), read from the other side's Latin name:
    ``latin_family_name_equal`` when the romanised Khmer family name is one of its Latin
    tokens (by consonant frame: Keo / កែវ), ``latin_family_name_differs`` when that Latin name
    has a family name too (two tokens or more) and it is not this one."""
    for with_family, without in ((ka, kb), (kb, ka)):
        if with_family.km_family_tokens and not without.km_family_tokens:
            if len(without.latin) < 2 or not with_family.translit_family_frames:
                return []
            if with_family.translit_family_frames & without.latin_part_frames:
                return ["latin_family_name_equal"]
            return ["latin_family_name_differs"]
    return []


def _khmer_evidence(ka: MemberKeys, kb: MemberKeys) -> NameEvidence:
    """Both records carry a Khmer name."""
    family = _family_codes(ka, kb) or _family_from_latin(ka, kb)
    if _khmer_agree(ka, kb):
        return NameEvidence(("khmer_given_name_equal", *family), strong=True)
    if _skeleton_agree(ka, kb):
        return NameEvidence(("khmer_skeleton_equal", *family), strong=True)
    if _khmer_segmentation_variant(ka, kb):
        return NameEvidence(("khmer_name_segmentation_variant", *family))
    if _skeleton_close(ka, kb):
        return NameEvidence(("khmer_skeleton_close", *family), cap="khmer_name_close")
    return NameEvidence(("khmer_given_name_differs", *family), cap="khmer_given_name_differs")


def _latin_evidence(ka: MemberKeys, kb: MemberKeys) -> tuple[str | None, bool]:
    """Latin against Latin, else Latin against the transliterated Khmer of the other side."""
    if ka.latin and kb.latin:
        return _compare_latin(ka, kb)
    if ka.latin and kb.km_full:
        return _compare_translit(ka, kb), False
    if kb.latin and ka.km_full:
        return _compare_translit(kb, ka), False
    return None, False


def score_names(ka: MemberKeys, kb: MemberKeys, *, both_named: bool) -> NameEvidence:
    """Name evidence of two records' keys. ``both_named``: both carry a real name (Khmer or
    Latin), not just a nickname; otherwise the pair is capped ("nickname_only")."""
    khmer = _khmer_evidence(ka, kb) if ka.km_full and kb.km_full else NameEvidence()
    codes, strong, cap = list(khmer.codes), khmer.strong, khmer.cap
    if not strong and cap is None:
        code, strong = _latin_evidence(ka, kb)
        if code:
            codes.append(code)
        if not strong and (ka.nicknames or kb.nicknames):
            codes.append("nickname_equal" if _nickname_match(ka, kb) else "nickname_differs")
    if not both_named:
        return NameEvidence(tuple(codes), strong=False, cap=cap or "nickname_only")
    return NameEvidence(tuple(codes), strong=strong, cap=cap)
