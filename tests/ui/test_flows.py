"""The review, job-map edit, import and settings flows, through AppTest."""

from __future__ import annotations

from datetime import datetime, timezone

from decimal import Decimal

from sqlmodel import Session, select

from app.models import Account, Job, JobStep, Outcome, Review
from tests.ui.conftest import REPO, make_app, no_errors

SAMPLES = REPO / "data" / "samples"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _current_item(at) -> str:
    """The outcome id of the review card the queue opened (its "#### id" heading)."""
    heading = next(m.value for m in at.markdown if m.value.startswith("#### "))
    return heading[5:].split("&nbsp;")[0].strip()


def _outcomes_page(at):
    at.run()
    at.switch_page("ui/pages/outcomes.py").run()
    no_errors(at)


def test_marking_an_outcome_incorrect_changes_accuracy_and_billable(demo_engine):
    at = make_app()
    _outcomes_page(at)
    before_acc, before_billable = _metric(at, "Accuracy"), _metric(at, "Billable")
    at.selectbox(key="queue").set_value("Completed (sample)").run()
    no_errors(at)
    at.text_input(key="reviewer").input("Dana").run()
    outcome_id = _current_item(at)
    at.run()
    assert _current_item(at) == outcome_id  # the claimed item stays the reviewer's across reruns
    at.text_input(key="comment_queue").input("Wrong refund amount")
    at.button(key="incorrect_queue").click().run()
    no_errors(at)
    assert any(f"Outcome {outcome_id} marked incorrect" in s.value for s in at.success)
    # the page says what changed
    assert any("Accuracy " in s.value and " → " in s.value and "bill" in s.value for s in at.success)
    after_acc, after_billable = _metric(at, "Accuracy"), _metric(at, "Billable")
    assert after_acc != before_acc
    assert int(after_billable.replace(",", "")) == int(before_billable.replace(",", "")) - 1
    # the reviewed outcome left the queue: the next one is open
    assert _current_item(at) != outcome_id
    with Session(demo_engine) as s:
        outcome = s.exec(select(Outcome).where(Outcome.outcome_id == outcome_id)).one()
        assert outcome.verdict == "incorrect"
        review = s.exec(select(Review).where(Review.outcome_pk == outcome.id).order_by(Review.id.desc())).first()
        assert (review.reviewer, review.comment, review.verdict) == ("Dana", "Wrong refund amount", "incorrect")
    # the Overview shows the same new accuracy at once
    at.switch_page("ui/pages/overview.py").run()
    assert _metric(at, "Accuracy") == after_acc


def test_review_from_the_outcome_table(demo_engine):
    at = make_app()
    _outcomes_page(at)
    at.segmented_control(key="view").set_value("All outcomes").run()
    at.multiselect(key="status").set_value(["completed"]).run()
    at.multiselect(key="verdict").set_value(["unreviewed"]).run()
    no_errors(at)
    before = _metric(at, "Accuracy")
    options = at.selectbox(key="detail_pick").options
    assert options
    at.selectbox(key="detail_pick").select_index(0).run()
    at.button(key="correct_detail").click().run()
    no_errors(at)
    assert any("marked correct" in s.value for s in at.success)
    assert _metric(at, "Accuracy") != before or "100.0%" in before


def test_job_map_edit_is_saved_and_visible(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/job_map.py").run()
    no_errors(at)
    job = at.selectbox(key="job").value
    before = _metric(at, "Configured coverage")
    at.text_input(key=f"unit_{job}").input("closed case")
    at.selectbox(key=f"cov_{job}_define").set_value("manual")
    at.text_area(key=f"desc_{job}_define").input("A person reads the request and tags it.")
    at.button(key=f"save_{job}").click().run()
    no_errors(at)
    assert any("Job map saved" in s.value for s in at.success)
    assert _metric(at, "Configured coverage") != before
    assert any("closed case" in c.value for c in at.caption)
    slug = at.sidebar.selectbox(key="account").value
    with Session(demo_engine) as s:
        acc = s.exec(select(Account).where(Account.slug == slug)).one()
        j = s.exec(select(Job).where(Job.account_id == acc.id, Job.slug == job)).one()
        step = s.exec(select(JobStep).where(JobStep.job_id == j.id, JobStep.step == "define")).one()
        assert (step.coverage, step.description) == ("manual", "A person reads the request and tags it.")
    # visible on the Portfolio heatmap too (configured weight 0 for that step)
    at.switch_page("ui/pages/portfolio.py").run()
    no_errors(at)


def test_job_map_bad_edit_changes_nothing(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/job_map.py").run()
    job = at.selectbox(key="job").value
    at.text_input(key=f"name_{job}").input("   ")
    at.selectbox(key=f"cov_{job}_define").set_value("manual")
    at.button(key=f"save_{job}").click().run()
    assert not at.exception
    assert any("Not saved" in e.value and "name must not be empty" in e.value for e in at.error)
    slug = at.sidebar.selectbox(key="account").value
    with Session(demo_engine) as s:
        acc = s.exec(select(Account).where(Account.slug == slug)).one()
        j = s.exec(select(Job).where(Job.account_id == acc.id, Job.slug == job)).one()
        step = s.exec(select(JobStep).where(JobStep.job_id == j.id, JobStep.step == "define")).one()
        assert step.coverage != "manual"
        assert j.name.strip()


def _import_page(at, slug):
    at.run()
    at.sidebar.selectbox(key="account").set_value(slug).run()
    at.switch_page("ui/pages/import_data.py").run()
    no_errors(at)


def _count(engine, slug):
    with Session(engine) as s:
        acc = s.exec(select(Account).where(Account.slug == slug)).one()
        return len(s.exec(select(Outcome.id).where(Outcome.account_id == acc.id)).all())


def _support_account(engine):
    with Session(engine) as s:
        return s.exec(select(Account.slug).join(Job, Job.account_id == Account.id).where(Job.slug == "customer-support")).first()


def test_import_flow_preview_report_then_import(demo_engine):
    slug = _support_account(demo_engine)
    at = make_app()
    _import_page(at, slug)
    before = _count(demo_engine, slug)
    raw = (SAMPLES / "outcomes.csv").read_bytes()
    rows = raw.decode().strip().count("\n")
    at.file_uploader(key="upload").upload("outcomes.csv", raw, "text/csv").run()
    no_errors(at)
    # preview and validation report, nothing written yet
    assert at.dataframe
    assert _metric(at, "New") == str(rows)
    assert _metric(at, "Rejected") == "0"
    assert _count(demo_engine, slug) == before
    at.button(key="do_import").click().run()
    no_errors(at)
    assert any("Imported outcomes.csv" in s.value for s in at.success)
    assert _count(demo_engine, slug) == before + rows


def test_import_with_a_bad_row_needs_consent(demo_engine):
    slug = _support_account(demo_engine)
    at = make_app()
    _import_page(at, slug)
    before = _count(demo_engine, slug)
    raw = (SAMPLES / "bad_row.csv").read_bytes()
    at.file_uploader(key="upload").upload("bad_row.csv", raw, "text/csv").run()
    no_errors(at)
    assert int(_metric(at, "Rejected")) >= 1
    assert at.button(key="do_import").disabled
    rejected = [d.value for d in at.dataframe if "Reason" in d.value.columns]
    assert rejected and rejected[0].shape[0] >= 1 and rejected[0]["Line"].min() >= 2
    at.checkbox(key="valid_only").check().run()
    assert not at.button(key="do_import").disabled
    at.button(key="do_import").click().run()
    no_errors(at)
    assert _count(demo_engine, slug) > before


def test_a_file_with_no_valid_row_offers_no_partial_import(demo_engine):
    slug = _support_account(demo_engine)
    at = make_app()
    _import_page(at, slug)
    raw = (
        "outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n"
        "T-1,customer-support,2026-11-05T09:10:00Z,2026-11-05T10:00:00Z," + "x" * 10_000 + ",,\n"
    ).encode()
    at.file_uploader(key="upload").upload("all_bad.csv", raw, "text/csv").run()
    no_errors(at)
    assert _metric(at, "Rejected") == "1"
    assert any("no row of this file is valid" in e.value for e in at.error)
    assert not [c for c in at.checkbox if c.key == "valid_only"]
    assert at.button(key="do_import").disabled
    (reason,) = [d.value for d in at.dataframe if "Reason" in d.value.columns][0]["Reason"]
    assert "(10,000 characters)" in reason and len(reason) < 200


def test_import_of_an_unknown_format_is_refused(demo_engine):
    slug = _support_account(demo_engine)
    at = make_app()
    _import_page(at, slug)
    at.file_uploader(key="upload").upload("notes.jsonl", b"not json at all\n", "application/json").run()
    assert not at.exception
    assert int(_metric(at, "Rejected")) == 1


def test_budget_and_targets_are_saved(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    at.number_input(key="set_budget").set_value(1.0)
    at.number_input(key="set_accuracy").set_value(99.5)
    at.button(key="save_settings").click().run()
    no_errors(at)
    assert any("saved" in s.value for s in at.success)
    slug = at.sidebar.selectbox(key="account").value
    with Session(demo_engine) as s:
        acc = s.exec(select(Account).where(Account.slug == slug)).one()
        assert acc.monthly_budget == Decimal("1.00")
        assert acc.target_accuracy == Decimal("0.995")
    at.switch_page("ui/pages/overview.py").run()
    assert any("budget" in e.value for e in at.error)


def test_export_csv_is_spreadsheet_safe(demo_engine):
    import csv
    import io
    from datetime import date

    from app.store.outcomes import OutcomeFilter
    from app.ui import data

    slug = _support_account(demo_engine)
    with Session(demo_engine) as s:
        o = s.exec(select(Outcome).join(Account).where(Account.slug == slug)).first()
        o.outcome_id = "=HYPERLINK(\"http://evil\")"
        s.add(o)
        s.commit()
    text = data.export_csv(slug, OutcomeFilter(date(2000, 1, 1), date(2100, 1, 1)))()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["outcome_id", "job", "status"]
    assert ["'=HYPERLINK(\"http://evil\")"] == [r[0] for r in rows if "HYPERLINK" in r[0]]
    assert len(rows) == _count(demo_engine, slug) + 1


def test_an_admin_closes_the_months_of_history_and_they_show_final(demo_engine, monkeypatch):
    """An account that came to Overseer this month with months of history: they wait for an admin to close them."""
    from app.models import ClosedInvoice

    with Session(demo_engine) as s:
        for acc in s.exec(select(Account)).all():
            acc.created_at = datetime(2026, 11, 20, tzinfo=timezone.utc)
            s.add(acc)
        s.commit()
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    assert any("ended before this account came to Overseer" in w.value for w in at.warning)
    slug = at.sidebar.selectbox(key="account").value
    at.selectbox(key="close_through").set_value((2026, 10))
    at.button(key="close_save").click().run()
    assert any("tick the box" in e.value for e in at.error)  # not closed without the confirmation
    with Session(demo_engine) as s:
        assert not s.exec(select(ClosedInvoice)).all()
    at.checkbox(key="close_sure").check()
    at.button(key="close_save").click().run()
    no_errors(at)
    assert any("Final:" in s.value and "-2026-10" in s.value for s in at.success)
    with Session(demo_engine) as s:
        numbers = [c.number for c in s.exec(select(ClosedInvoice).order_by(ClosedInvoice.year, ClosedInvoice.month))]
    assert numbers and numbers[-1] == f"{slug.upper()}-2026-10"
    history = at.dataframe[-1].value if hasattr(at.dataframe[-1], "value") else None
    statuses = [row for row in history["Status"]] if history is not None and "Status" in history else []
    assert "Final · " + numbers[-1] in statuses and statuses[0] == "Draft"
    # November is the first open month now, and closes by itself 3 days after it ends.
    assert any("closes by itself on" in c.value and "4 Dec 2026 at 00:00 UTC" in c.value for c in at.caption)


def test_the_grace_period_is_an_admin_setting(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    at.number_input(key="grace_days").set_value(10)
    at.button(key="grace_save").click().run()
    no_errors(at)
    slug = at.sidebar.selectbox(key="account").value
    with Session(demo_engine) as s:
        assert s.exec(select(Account).where(Account.slug == slug)).one().grace_days == 10


def test_a_plan_change_for_next_month_is_shown_as_still_to_come(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    at.selectbox(key="plan_start").set_value("hybrid").run()
    at.radio(key="plan_when").set_value((2026, 12))
    at.checkbox(key="plan_sure").check()
    at.button(key="plan_save").click().run()
    no_errors(at)
    assert any("moves to Hybrid on 1 December 2026" in s.value for s in at.success), [s.value for s in at.success]
    assert any("Changes to" in m.value and "Hybrid" in m.value and "1 Dec 2026" in m.value for m in at.markdown)
    assert any(c.value.startswith("Plan history:") for c in at.caption)
