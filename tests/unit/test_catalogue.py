"""The one rule for which forms a collector may use (server/xforms/catalogue.py)."""

from __future__ import annotations

import pytest

from server import errors
from server.db.enums import FormState
from server.xforms.catalogue import check_use


@pytest.mark.parametrize("state", [FormState.OPEN, FormState.CLOSING])
def test_form_for_the_role__usable_while_open_or_closing(state: FormState) -> None:
    check_use("peer_educator", "peer_educator village", state)


def test_form_for_other_roles__refused_as_not_for_this_collector() -> None:
    with pytest.raises(errors.FormNotForCollector):
        check_use("peer_educator", "village", FormState.OPEN)
    with pytest.raises(errors.FormNotForCollector):
        check_use("peer", "peer_educator", FormState.OPEN)  # whole role names, not substrings


def test_closed_form__refused_even_for_its_role() -> None:
    with pytest.raises(errors.FormClosed):
        check_use("village", "village", FormState.CLOSED)
