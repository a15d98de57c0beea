"""The review loop in a real Chromium (issue "The overseer's review loop", Checks):

import a file with ``summary`` and ``url``; review three outcomes from the queue with the keyboard only;
accuracy, the sample's progress and, after a second reviewer, the agreement change as they should; a
``javascript:`` url is refused at import. Screenshots of the queue and the review card at 1280×800 and
390×844 go to ``OVERSEER_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, no_failure, open_page, pinned_env, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.e2e

HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step,summary,url\n"
# 6 completed outcomes reviewed (4 correct), 6 completed waiting, one escalated.
ROWS = (
    [f"R-{i},customer-support,2026-11-0{1 + i % 5}T09:00Z,2026-11-0{1 + i % 5}T09:30Z,completed,"
     f"{'correct' if i < 4 else 'incorrect'},,Answered question {i},https://help.example/t/{i}" for i in range(6)]
    + [f"Q-{i},customer-support,2026-11-1{i}T10:00Z,2026-11-1{i}T10:25Z,completed,,,"
       f"\"Refunded order #{4400 + i} (12.50 USD) <b>after</b> checking **the** carrier\",https://help.example/t/q{i}"
       for i in range(6)]
    + ["E-1,customer-support,2026-11-12T10:00Z,2026-11-12T12:00Z,escalated,,execute,Handed to an agent,"]
)


def _shots() -> Path | None:
    folder = os.environ.get("OVERSEER_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def loop_app(tmp_path_factory, chromium_browser):
    require_chromium()
    folder = tmp_path_factory.mktemp("loop")
    db = folder / "loop.db"
    env = pinned_env(DATABASE_URL=f"sqlite:///{db}")
    made = subprocess.run(
        [sys.executable, "-m", "app", "account", "add", "acme", "--name", "Acme Support",
         "--plan", str(REPO / "data" / "plans" / "freemium.json"), "--since", "2026-11-01"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stderr
    with running_app(env, folder / "server.log") as base:
        yield base, db, folder


def _metric(pg, key: str) -> str:
    return pg.locator(f".st-key-{key} [data-testid='stMetricValue']").inner_text().strip()


def _caption(pg, key: str) -> str:
    return pg.locator(f".st-key-{key} [data-testid='stCaptionContainer']").last.inner_text().strip()


def _upload(pg, base: str, path: Path) -> None:
    open_page(pg, base, "import?account=Acme+Support")
    pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    pg.get_by_text("Validation report").wait_for()
    wait_idle(pg)


def _focused(pg) -> str:
    return pg.evaluate("document.activeElement ? document.activeElement.innerText : ''")


def _wait_for_change(pg, said: str) -> None:
    pg.get_by_text(said).first.wait_for(timeout=60_000)
    wait_idle(pg, 1000)


def test_import_review_with_the_keyboard_and_agree(loop_app, chromium_browser):
    base, db, folder = loop_app
    shots = _shots()
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(30_000)

    # A javascript: url is refused at import: the row is an error and nothing can be imported.
    bad = folder / "bad.csv"
    bad.write_text(HEADER + "X-1,customer-support,2026-11-02T09:00Z,2026-11-02T09:30Z,completed,,,Hi,javascript:alert(1)\n")
    _upload(pg, base, bad)
    assert _metric(pg, "imp_rejected") == "1"
    assert pg.get_by_text("1 row cannot be imported").count() == 1
    assert pg.locator(".st-key-do_import button").is_disabled()

    # A file with summary and url imports.
    good = folder / "good.csv"
    good.write_text(HEADER + "\n".join(ROWS) + "\n")
    _upload(pg, base, good)
    pg.get_by_role("button", name="Import 13 outcomes").click()
    pg.get_by_text("Imported good.csv").wait_for()

    # The queue: the completed sample, one outcome at a time, the keyboard focus on the verdict buttons.
    open_page(pg, base, "outcomes?account=Acme+Support&queue=Completed+%28sample%29")
    no_failure(pg)
    assert _metric(pg, "kpi_accuracy") == "66.7%"
    assert "4 correct of 6 reviewed" in _caption(pg, "kpi_accuracy")
    progress = pg.locator(".st-key-queue_plan [data-testid='stProgress']").inner_text()
    assert progress.startswith("6 of ")
    card = pg.locator(".st-key-card_queue")
    # The summary is plain text (no HTML, no Markdown), the url a link to a new tab that cannot reach back.
    assert "<b>after</b> checking **the** carrier" in card.inner_text()
    link = card.locator("a.overseer-source-link")
    assert link.get_attribute("href").startswith("https://help.example/t/q")
    assert link.get_attribute("target") == "_blank"
    assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    if shots:
        pg.screenshot(path=str(shots / "review-card-1280.png"))

    expected_accuracy = ["57.1%", "62.5%", "66.7%"]  # incorrect, then correct, then correct
    for n, accuracy in enumerate(expected_accuracy):
        assert "Mark correct" in _focused(pg), _focused(pg)
        outcome = card.locator("h4").inner_text().split()[0]
        if n == 0:
            pg.keyboard.press("Tab")  # Mark incorrect
            assert "Mark incorrect" in _focused(pg)
        pg.keyboard.press("Enter")
        verdict = "incorrect" if n == 0 else "correct"
        _wait_for_change(pg, f"Outcome {outcome} marked {verdict}.")
        assert _metric(pg, "kpi_accuracy") == accuracy
        message = pg.locator("[data-testid='stAlertContentSuccess']").inner_text()
        assert "Accuracy " in message and " → " in message and "bill" in message, message
        assert pg.locator(".st-key-queue_plan [data-testid='stProgress']").inner_text().startswith(f"{7 + n} of ")
        assert card.locator("h4").inner_text().split()[0] != outcome  # moved on to the next item
    assert "6 correct of 9 reviewed" in _caption(pg, "kpi_accuracy")
    assert _metric(pg, "kpi_kappa") == "—"

    # A second reviewer: every reviewed outcome goes to them (the share set to 100% for the test).
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE account SET second_review_share = '1'")
    open_page(pg, base, "outcomes?account=Acme+Support&queue=Second+reviews")
    pg.get_by_role("textbox", name="Reviewer").fill("bob")
    pg.get_by_role("textbox", name="Reviewer").press("Enter")
    wait_idle(pg, 1500)
    assert "Hidden until you give your verdict" in card.inner_text()
    assert "Incorrect" not in card.locator("h4").inner_text() and "Correct" not in card.locator("h4").inner_text()
    if shots:
        pg.screenshot(path=str(shots / "second-review-1280.png"))
    for n, keys in enumerate((["Tab", "Enter"], ["Enter"])):
        pg.locator(".st-key-correct_queue button").focus()  # the reviewer field had the focus
        outcome = card.locator("h4").inner_text().split()[0]
        for key in keys:
            pg.keyboard.press(key)
        _wait_for_change(pg, f"Outcome {outcome} marked {'incorrect' if n == 0 else 'correct'} (second review).")
    assert _metric(pg, "kpi_kappa") != "—"
    assert "2 outcomes reviewed by two people" in _caption(pg, "kpi_kappa")
    no_failure(pg)
    if shots:
        for width, height in ((1280, 800), (390, 844)):
            pg.set_viewport_size({"width": width, "height": height})
            open_page(pg, base, "outcomes?account=Acme+Support&queue=Completed+%28sample%29")
            pg.evaluate("for (const e of document.querySelectorAll('*')) if (e.scrollTop > 0) e.scrollTop = 0")
            pg.screenshot(path=str(shots / f"queue-{width}.png"))
            pg.locator(".st-key-card_queue").scroll_into_view_if_needed()
            pg.screenshot(path=str(shots / f"card-{width}.png"))
    context.close()
