"""Who may see and change what: the Principal value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.access import ADMIN, VIEWER, Forbidden, Principal, normalize_email
from app.domain.errors import NotFound, OverseerError


def test_a_member_sees_only_their_accounts_with_their_role():
    who = Principal(email="ana@example.com", roles=((1, VIEWER), (2, ADMIN)))
    assert who.account_ids == frozenset({1, 2})
    assert who.can_read(1) and not who.can_admin(1)
    assert who.can_read(2) and who.can_admin(2)
    assert not who.can_read(3) and who.role_in(3) is None


def test_someone_with_no_membership_sees_nothing():
    who = Principal(email="new@example.com")
    assert who.account_ids == frozenset()
    with pytest.raises(NotFound, match="no account 'acme'"):
        who.require_read(7, "acme")


def test_a_viewer_is_refused_changes_with_a_clear_message():
    who = Principal(email="ana@example.com", roles=((1, VIEWER),))
    who.require_read(1, "acme")
    with pytest.raises(Forbidden, match="Only an admin of this account can change the plan; you are a viewer"):
        who.require_admin(1, "change the plan")
    # An account they cannot see is not found, not forbidden: its existence is not revealed.
    with pytest.raises(NotFound):
        who.require_admin(2, "change the plan")


def test_staff_local_user_and_command_line_have_every_right():
    for who in (Principal(email="s@example.com", staff=True), Principal.local_user(), Principal.operator()):
        assert who.account_ids is None
        assert who.can_admin(12345)
        who.require_staff("compare accounts")
    with pytest.raises(Forbidden, match="Only Overseer staff"):
        Principal(email="a@example.com", roles=((1, ADMIN),)).require_staff("compare accounts")


def test_command_line_is_recorded_as_such():
    assert Principal.operator().email.startswith("command line (")


@pytest.mark.parametrize("raw", ["", "   ", "ana", "ana@", "@example.com", "a b@example.com", "ana@example", "x" * 250 + "@example.com"])
def test_not_an_email_address_is_refused(raw):
    with pytest.raises(OverseerError, match="is not an e-mail address"):
        normalize_email(raw)


def test_addresses_are_trimmed_and_lower_cased():
    assert normalize_email("  Ana.Lopez@Example.COM ") == "ana.lopez@example.com"


@given(st.lists(st.tuples(st.integers(1, 20), st.sampled_from([VIEWER, ADMIN])), unique_by=lambda t: t[0]), st.integers(1, 25))
def test_rights_follow_the_roles_exactly(roles, account_id):
    who = Principal(email="p@example.com", roles=tuple(roles))
    held = dict(roles)
    assert who.can_read(account_id) == (account_id in held)
    assert who.can_admin(account_id) == (held.get(account_id) == ADMIN)
    # hashable and equal by value: the data layer keys its caches on it
    assert hash(who) == hash(Principal(email="p@example.com", roles=tuple(roles)))
