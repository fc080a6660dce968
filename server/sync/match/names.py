"""Name evidence of a pair (domain 4.4): Khmer first, Latin only when Khmer cannot decide.

Khmer script wins over Latin: when both records carry Khmer given names that disagree, Latin
similarity is ignored and the pair can at most be "possible" (Sophea/Sopheap are one Latin
letter but two names). Evidence strings are codes, never names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

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
    if ratio >= _LATIN_SIMILAR:
        return "latin_name_similar", False
    if set(a.latin_coarse_tokens) & set(b.latin_coarse_tokens):
        return "latin_name_token_shared", False
    return "latin_name_differs", False


def _compare_translit(latin: MemberKeys, khmer: MemberKeys) -> str | None:
    if not khmer.translit:
        return None
    if (latin.latin_coarse_joined & khmer.translit_parts) or (
        latin.latin_coarse_parts & {latin_coarse_key(j) for j in latin_joined_keys(khmer.translit)}
    ):
        return "translit_name_equal"
    ratio = fuzz.token_set_ratio(
        " ".join(latin.latin_coarse_tokens), " ".join(latin_coarse_key(t) for t in khmer.translit)
    )
    return "translit_name_similar" if ratio >= _TRANSLIT_SIMILAR else None


def _nickname_match(a: MemberKeys, b: MemberKeys) -> bool:
    if not (a.nicknames or b.nicknames):
        return False

    def names(k: MemberKeys) -> set[str]:
        return set(k.nicknames) | set(k.latin_coarse_tokens) | {
            latin_coarse_key(t) for t in k.translit
        }

    return bool(a.nicknames & names(b)) or bool(b.nicknames & names(a))



def _khmer_evidence(ka: MemberKeys, kb: MemberKeys) -> NameEvidence:
    """Both records carry a Khmer name."""
    if _khmer_agree(ka, kb):
        codes = ["khmer_given_name_equal"]
        if ka.km_family_tokens and kb.km_family_tokens:
            # Women keep their family name; a swap of the two boxes is fine.
            if set(ka.km_family_tokens) & set(kb.km_full):
                codes.append("khmer_family_name_equal")
            else:
                codes.append("khmer_family_name_differs")
        return NameEvidence(tuple(codes), strong=True)
    if _khmer_segmentation_variant(ka, kb):
        return NameEvidence(("khmer_name_segmentation_variant",))
    codes = ["khmer_given_name_differs"]
    if ka.km_family_tokens and set(ka.km_family_tokens) == set(kb.km_family_tokens):
        codes.append("khmer_family_name_equal")
    return NameEvidence(tuple(codes), cap="khmer_given_name_differs")


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
        if not strong and _nickname_match(ka, kb):
            codes.append("nickname_equal")
    if not both_named:
        return NameEvidence(tuple(codes), strong=False, cap=cap or "nickname_only")
    return NameEvidence(tuple(codes), strong=strong, cap=cap)
