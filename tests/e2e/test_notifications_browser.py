"""End to end in Chromium: an admin adds a webhook on the Notifications page, an import then pushes the account
past 80% of its free allowance, and a local receiver gets an ``alert.triggered`` whose signature the
``standardwebhooks`` package verifies. The worker runs in this process (``deliver_due``), as
``overseer notify run --once`` would.

With ``OVERSEER_SCREENSHOTS=DIR`` the page is also saved at 1280×800 and 390×844."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.e2e.conftest import E2E_NOW, pinned_env, running_app, wait_idle
from tests.notify.helpers import HEADER, start_receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_database(tmp_path, sqlite_template, monkeypatch, chromium_browser):
    """A migrated SQLite file holding one account (Acme, 30 free outcomes), and no outcome yet."""
    from app.core.db import make_engine
    from app.domain.plans import SEED_PLANS
    from app.store.accounts import create_account
    from tests.factories import at

    monkeypatch.setenv("OVERSEER_NOW", E2E_NOW)
    path = tmp_path / "notify.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        create_account(s, "acme", "Acme", SEED_PLANS["freemium"], since=at("2026-11-01T00:00").date())
        s.commit()
    yield path, engine
    engine.dispose()


def test_admin_adds_a_webhook_and_an_import_sends_a_signed_alert(fresh_database, chromium_browser, tmp_path, monkeypatch):
    from app.notify.worker import deliver_due

    path, engine = fresh_database
    receiver, server = start_receiver()
    env = pinned_env(DATABASE_URL=f"sqlite:///{path}", OVERSEER_WEBHOOKS_ALLOW_PRIVATE="1")
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    try:
        with running_app(env, tmp_path / "server.log") as base:
            context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
            pg = context.new_page()
            pg.set_default_timeout(30_000)
            pg.goto(f"{base}/notifications")
            pg.get_by_role("heading", name="Notifications").wait_for()
            wait_idle(pg)
            pg.get_by_role("textbox", name="URL").fill(receiver.url)
            pg.get_by_role("button", name="Add webhook").click()
            pg.get_by_text("copy it now").wait_for()
            wait_idle(pg)
            secret = pg.locator("[data-testid='stCode'] code").first.inner_text().strip()
            assert secret.startswith("whsec_")
            receiver.secret = secret
            shots = os.environ.get("OVERSEER_SCREENSHOTS")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(Path(shots) / "notifications-1280x800-secret.png"), full_page=False)

            # 25 of the 30 free outcomes, through the Import page.
            csv = tmp_path / "november.csv"
            rows = [f"E2E-{i},customer-support,2026-11-{10 + i % 10:02d}T09:00:00Z,2026-11-{10 + i % 10:02d}T10:00:00Z,completed,,"
                    for i in range(25)]
            csv.write_text("\n".join([HEADER, *rows]) + "\n")
            pg.goto(f"{base}/import")
            pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(csv))
            pg.get_by_text("Validation report").wait_for()
            wait_idle(pg)
            pg.get_by_role("button", name="Import 25 outcomes").click()
            pg.get_by_text("Imported november.csv").wait_for()

            # The import's own transaction wrote the event; the worker sends it.
            report = deliver_due(engine)
            assert report.delivered == 1, report
            (got,) = receiver.got
            assert got.verified, got.error
            assert got.payload["type"] == "alert.triggered"
            assert got.payload["data"]["rule"] == "allowance" and got.payload["data"]["to"] == "WARNING"
            assert got.payload["data"]["account"] == "acme"

            pg.goto(f"{base}/notifications")
            pg.get_by_role("heading", name="Deliveries").wait_for()
            wait_idle(pg)
            assert "Warning" in pg.inner_text("[data-testid='stMain']")
            assert secret not in pg.content()
            if shots:
                pg.screenshot(path=str(Path(shots) / "notifications-1280x800.png"), full_page=True)
                pg.get_by_role("heading", name="Deliveries").scroll_into_view_if_needed()
                pg.screenshot(path=str(Path(shots) / "notifications-1280x800-deliveries.png"))
                pg.set_viewport_size({"width": 390, "height": 844})
                wait_idle(pg)
                pg.screenshot(path=str(Path(shots) / "notifications-390x844.png"), full_page=False)
                pg.screenshot(path=str(Path(shots) / "notifications-390x844-full.png"), full_page=True)
            context.close()
    finally:
        server.shutdown()
        server.server_close()
