"""Sign-in, roles and isolation as the pages show them (AppTest with ``st.user`` and an ``[auth]`` secret).

The store refuses what a role may not do (tests/store/test_members.py); these tests check that
the pages neither show another account's data nor offer changes a viewer cannot make.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.domain.access import ADMIN, VIEWER
from app.models import AuditEvent
from app.store import members
from app.store.accounts import get_account
from tests.factories import OPERATOR
from tests.ui.conftest import make_app, no_errors

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "overseer",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
MINE, THEIRS = "trial-midway", "hybrid-over"


@pytest.fixture
def people(demo_engine):
    with Session(demo_engine, expire_on_commit=False) as s:
        mine = get_account(s, MINE, principal=OPERATOR)
        theirs = get_account(s, THEIRS, principal=OPERATOR)
        members.set_member(s, OPERATOR, mine, "ada@example.com", ADMIN)
        members.set_member(s, OPERATOR, mine, "vic@example.com", VIEWER)
        members.set_member(s, OPERATOR, theirs, "tom@example.com", ADMIN)
        members.set_staff(s, OPERATOR, "sam@example.com", True)
        # Seen already today under the name the tests sign in with: a sign-in then writes nothing, so
        # it does not clear the caches (which the cache test below relies on).
        for email in ("ada@example.com", "vic@example.com", "tom@example.com", "sam@example.com"):
            members.note_sign_in(s, email, email.split("@")[0])
        s.commit()
        return {"mine": mine.name, "theirs": theirs.name}


def signed_in(email: str | None, page: str | None = None, **query):
    at = make_app(**query)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
    return "\n".join(parts)


def test_without_sign_in_configured_the_sidebar_says_local_mode(demo_engine):
    at = make_app()
    at.run()
    no_errors(at)
    assert "Local mode" in "\n".join(c.value for c in at.sidebar.caption)


def test_nobody_signed_in_sees_only_the_sign_in_screen(people):
    at = signed_in(None)
    no_errors(at)
    assert at.button(key="sign_in").label == "Sign in"
    assert not at.sidebar.selectbox  # no account picker, no figures
    assert not at.metric


def test_a_viewer_sees_only_their_account_and_no_edit(people):
    at = signed_in("vic@example.com")
    no_errors(at)
    box = at.sidebar.selectbox(key="account")
    assert box.options == [people["mine"]]
    assert "Signed in as" in "\n".join(c.value for c in at.sidebar.caption)
    for page, lock in [
        ("ui/pages/job_map.py", "Only an admin of this account can edit its job maps"),
        ("ui/pages/billing.py", "Only an admin of this account can change these"),
        ("ui/pages/value.py", "Only an admin of this account can change these"),
    ]:
        at.switch_page(page).run()
        no_errors(at)
        assert lock in _texts(at), page
    at.switch_page("ui/pages/billing.py").run()
    assert at.button(key="save_settings").disabled
    assert not [e for e in at.expander if e.label == "Change the plan"]


def test_a_viewer_cannot_open_admin_or_staff_pages(people):
    at = signed_in("vic@example.com")
    for page in ("ui/pages/portfolio.py", "ui/pages/demo.py", "ui/pages/import_data.py", "ui/pages/members.py", "ui/pages/audit.py"):
        with pytest.raises(Exception):  # not in this person's navigation: AppTest cannot switch to it
            at.switch_page(page).run()


def test_changing_the_account_in_the_url_shows_not_found(people):
    for wanted in (people["theirs"], "No Such Account"):
        at = signed_in("vic@example.com", account=wanted)
        no_errors(at)
        assert [h.value for h in at.subheader] == ["Account not found"]
        assert not at.main.metric, "no figure of any account is shown"
        assert at.sidebar.button(key="sign_out"), "one can still sign out"
        shown = _texts(at)
        assert people["mine"] not in shown or wanted == people["mine"]


def test_an_admin_edits_and_the_change_is_audited(people, demo_engine):
    at = signed_in("ada@example.com", "ui/pages/job_map.py")
    no_errors(at)
    job = at.selectbox(key="job").value
    at.text_input(key=f"name_{job}").input("Renamed by Ada")
    at.button(key=f"save_{job}").click().run()
    no_errors(at)
    with Session(demo_engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "job_map")).one()
    assert event.actor == "ada@example.com" and event.after["name"] == "Renamed by Ada"
    at.switch_page("ui/pages/audit.py").run()
    no_errors(at)
    table = at.dataframe[0].value
    assert "ada@example.com" in set(table["Who"]) and "name: Resolve a support inquiry → Renamed by Ada" in " ".join(table["Change"])


def test_an_admin_manages_members(people, demo_engine):
    at = signed_in("ada@example.com", "ui/pages/members.py")
    no_errors(at)
    assert set(at.dataframe[0].value["E-mail"]) == {"ada@example.com", "vic@example.com"}
    at.text_input(key="member_email").input("New.Person@Example.com")
    at.radio(key="member_role").set_value("viewer")
    at.button(key="member_save").click().run()
    no_errors(at)
    assert "new.person@example.com" in set(at.dataframe[0].value["E-mail"])
    # refused with a clear message, nothing changed: demoting the last admin
    at.text_input(key="member_email").input("ada@example.com")
    at.radio(key="member_role").set_value("viewer")
    at.button(key="member_save").click().run()
    assert any("last admin" in e.value for e in at.error)
    assert dict(zip(*[at.dataframe[0].value[c] for c in ("E-mail", "Role")]))["ada@example.com"] == "admin"


def test_signed_in_with_no_membership_is_told_whom_to_ask(people):
    at = signed_in("stranger@example.com")
    no_errors(at)
    assert "You don't have access to any account yet" in [h.value for h in at.subheader]
    assert "load_demo_empty" not in [b.key for b in at.button], "only staff may load the demo"


def test_staff_see_every_account_and_the_portfolio(people):
    at = signed_in("sam@example.com", "ui/pages/portfolio.py")
    no_errors(at)
    assert people["theirs"] in at.sidebar.selectbox(key="account").options
    assert at.title[0].value == "Portfolio"


def test_an_unverified_email_is_not_let_in(people):
    at = make_app()
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "vic@example.com", "email_verified": False}
    at.run()
    no_errors(at)
    assert "Your e-mail address is needed" in [h.value for h in at.subheader]
    assert not at.sidebar.selectbox


def test_an_admin_changes_the_plan_and_bad_json_changes_nothing(people, demo_engine):
    at = signed_in("ada@example.com", "ui/pages/billing.py")
    no_errors(at)
    at.selectbox(key="plan_start").set_value("usage").run()
    at.number_input(key="plan_seats").set_value(4)
    # not confirmed: refused, nothing changed
    at.button(key="plan_save").click().run()
    assert any("tick the box" in e.value for e in at.error)
    at.text_area(key="plan_json_usage").input('{"name": "Broken", "base_fee": "-5"')
    at.checkbox(key="plan_sure").check()
    at.button(key="plan_save").click().run()
    assert any(e.value.startswith("Not changed: the plan is not valid JSON") for e in at.error)
    with Session(demo_engine) as s:
        assert not s.exec(select(AuditEvent).where(AuditEvent.action == "plan")).all()
    # a valid plan: saved, shown, audited
    from app.domain.plans import SEED_PLANS

    at.text_area(key="plan_json_usage").input(__import__("json").dumps(SEED_PLANS["usage"].to_json()))
    at.checkbox(key="plan_sure").check()
    at.button(key="plan_save").click().run()
    no_errors(at)
    assert any(SEED_PLANS["usage"].name in s.value for s in at.success)
    with Session(demo_engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "plan")).one()
    assert event.actor == "ada@example.com" and event.after["seats"] == 4
    assert event.after["plan"]["name"] == SEED_PLANS["usage"].name


def test_cached_figures_of_one_person_never_serve_another(people):
    # Same process, same caches (nothing cleared between the two runs): staff first fill them with
    # every account, then a viewer must still get only their own.
    staff = signed_in("sam@example.com")
    assert len(staff.sidebar.selectbox(key="account").options) > 1
    viewer = signed_in("vic@example.com")
    assert viewer.sidebar.selectbox(key="account").options == [people["mine"]]
    hidden = signed_in("vic@example.com", account=people["theirs"])
    assert [h.value for h in hidden.subheader] == ["Account not found"]
