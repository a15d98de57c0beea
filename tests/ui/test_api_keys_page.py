"""The API keys page (AppTest): an admin creates a key, sees it once, lists and revokes it; the Live mark."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import ApiKey, AuditEvent
from tests.ui.conftest import make_app, no_errors


def _open(slug: str):
    at = make_app()
    at.run()
    at.sidebar.selectbox(key="account").set_value(slug).run()
    at.switch_page("ui/pages/api_keys.py").run()
    no_errors(at)
    return at


def test_create_show_once_list_and_revoke(demo_engine, demo_slugs):
    at = _open(demo_slugs[1])
    assert any("no API keys yet" in i.value for i in at.info)
    at.text_input(key="api_key_name").input("support bot")
    at.radio(key="api_key_scope").set_value("write")
    at.button(key="api_key_create_button").click().run()
    no_errors(at)
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("ovs_")
    with Session(demo_engine) as s:
        stored = s.exec(select(ApiKey)).one()
        assert stored.name == "support bot" and stored.scope == "write"
        assert shown[0] not in (stored.key_hash, stored.prefix)
    # The key is shown once: the next run lists it without the key.
    at.run()
    assert not at.code
    table = at.dataframe[0].value
    assert list(table["Prefix"]) == [stored.prefix] and list(table["State"]) == ["active"]
    at.checkbox(key="api_key_revoke_sure").check()
    at.button(key="api_key_revoke_button").click().run()
    no_errors(at)
    assert list(at.dataframe[0].value["State"]) == ["revoked"]
    with Session(demo_engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.action.like("api_key%")))]
    assert sorted(actions) == ["api_key.create", "api_key.revoke"]


def test_the_live_pages_show_the_mark(demo_engine, demo_slugs):
    at = make_app()
    at.run()
    for page in ("overview", "outcomes", "billing"):
        at.switch_page(f"ui/pages/{page}.py").run()
        no_errors(at)
        assert any("Live" in m.value for m in at.markdown), page
