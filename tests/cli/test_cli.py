"""The command line, end to end in-process: exit codes, JSON and SPEC's worked checks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.cli import main
from app.core.config import REPO_ROOT
from app.domain.plans import SEED_PLANS
from app.models import Account, Outcome
from app.store.accounts import create_account, get_account, list_jobs
from tests.factories import OPERATOR, add_outcomes, at

PLANS = REPO_ROOT / "data" / "plans"


def stored_outcomes(session) -> int:
    # End the test's own read transaction first: the command wrote through another connection.
    session.rollback()
    return session.exec(select(func.count()).select_from(Outcome)).one()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def quote(capsys, plan, *args):
    code, out, err = run(capsys, "quote", "--plan", PLANS / f"{plan}.json", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_quote_worked_checks(capsys):
    first = quote(capsys, "freemium", "--outcomes", 25, "--month", "2026-11")
    assert (first["total"], first["free_remaining"], first["free_used"]) == ("0.00", 5, 25)
    assert quote(capsys, "freemium", "--outcomes", 42, "--free-remaining", 0, "--month", "2026-11")["total"] == "142.00"
    assert quote(capsys, "hybrid", "--outcomes", 150, "--month", "2026-11")["total"] == "200.00"
    assert quote(capsys, "hybrid", "--outcomes", 260, "--month", "2026-11")["total"] == "320.00"
    prorated = quote(capsys, "freemium", "--outcomes", 12, "--free-remaining", 0, "--active-days", 10, "--month", "2026-11")
    assert prorated["total"] == "45.33"
    assert sum(float(line["amount"]) for line in prorated["lines"]) == pytest.approx(45.33)


def test_quote_json_shape(capsys):
    data = quote(capsys, "hybrid", "--outcomes", 260, "--month", "2026-11")
    assert set(data) == {"currency", "lines", "total", "free_used", "free_remaining"}
    assert data["currency"] == "USD"
    for line in data["lines"]:
        assert set(line) == {"description", "quantity", "unit_price", "amount"}
        assert isinstance(line["amount"], str) and len(line["amount"].split(".")[1]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--outcomes", "-1"], "must not be negative"),
        (["--outcomes", "3", "--seats", "-2"], "must not be negative"),
        (["--outcomes", "3", "--month", "2026-13"], "YYYY-MM"),
        (["--outcomes", "lots"], "must be a whole number"),
    ],
)
def test_quote_bad_input(capsys, args, message):
    code, out, err = run(capsys, "quote", "--plan", PLANS / "freemium.json", *args, "--json")
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_quote_invalid_plan(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "Bad", "currency": "USD", "base_fee": "-1"}))
    code, _, err = run(capsys, "quote", "--plan", bad, "--outcomes", 1, "--json")
    assert code == 2 and "base_fee must not be negative" in err
    code, _, err = run(capsys, "quote", "--plan", tmp_path / "missing.json", "--outcomes", 1)
    assert code == 2 and "cannot read plan file" in err


def test_account_add_and_invoice_worked_check(engine, session, capsys):
    code, out, err = run(
        capsys, "account", "add", "acme", "--name", "Acme Support", "--plan", PLANS / "freemium.json",
        "--since", "2026-11-01",
    )
    assert code == 0, err
    account = get_account(session, "acme", principal=OPERATOR)
    (job,) = list_jobs(session, account)
    # 30 free outcomes before the 21st, then the 31st on 2026-11-21 and 11 more after it.
    add_outcomes(session, account, job, [at("2026-11-02T09:00") + timedelta(hours=12 * i) for i in range(30)])
    add_outcomes(session, account, job, [at("2026-11-21T10:00") + timedelta(hours=10 * i) for i in range(12)])
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--as-of", "2026-12-01T00:00:00Z", "--json")
    assert code == 0, err
    invoice = json.loads(out)
    assert invoice["total"] == "45.33"
    assert (invoice["free_used"], invoice["free_remaining"]) == (30, 0)
    assert "projected" not in invoice


def test_invoice_current_month_has_projection(engine, session, capsys):
    create_account(session, "acme", "Acme", SEED_PLANS["hybrid"], since=at("2026-11-01T00:00").date())
    session.commit()
    account = get_account(session, "acme", principal=OPERATOR)
    (job,) = list_jobs(session, account)
    add_outcomes(session, account, job, [at("2026-11-01T08:00") + timedelta(hours=6 * i) for i in range(80)])
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--as-of", "2026-11-21T00:00:00", "--json")
    assert code == 0, err
    projected = json.loads(out)["projected"]
    assert set(projected) == {"outcomes", "total", "low", "high", "allowance_runs_out"}
    assert float(projected["low"]) <= float(projected["total"]) <= float(projected["high"])
    assert projected["outcomes"] >= 80


def test_unknown_account_and_bad_month(engine, capsys):
    code, out, err = run(capsys, "invoice", "--account", "nobody", "--month", "2026-11", "--json")
    assert code == 2 and out == "" and "no account 'nobody'" in err
    code, _, err = run(capsys, "ingest", REPO_ROOT / "data" / "samples" / "outcomes.csv", "--account", "nobody")
    assert code == 2 and "no account" in err


def test_account_add_bad_input_writes_nothing(engine, session, capsys, tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text('{"name": "X", "currency": "XYZ"}')
    code, _, err = run(capsys, "account", "add", "acme", "--name", "Acme", "--plan", bad)
    assert code == 2 and "unknown currency code" in err
    code, _, err = run(capsys, "account", "add", "acme", "--name", "Acme", "--plan", PLANS / "hybrid.json", "--template", "nope")
    assert code == 2 and "unknown template" in err
    assert session.exec(select(func.count()).select_from(Account)).one() == 0


def test_ingest_all_or_nothing_then_valid_only(engine, session, capsys):
    create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=at("2026-11-01T00:00").date())
    session.commit()
    bad = REPO_ROOT / "data" / "samples" / "bad_row.csv"
    code, out, err = run(capsys, "ingest", bad, "--account", "acme")
    assert code == 2
    report = json.loads(out)
    assert report["inserted"] == 0 and len(report["rejected"]) == 1
    assert f"line {report['rejected'][0]['line']}" in err
    assert stored_outcomes(session) == 0

    code, out, err = run(capsys, "ingest", bad, "--account", "acme", "--valid-only")
    assert code == 0, err
    report = json.loads(out)
    stored = stored_outcomes(session)
    assert report["inserted"] == stored > 0

    code, out, _ = run(capsys, "ingest", bad, "--account", "acme", "--valid-only")
    again = json.loads(out)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, stored)


def test_ingest_dry_run_writes_nothing(engine, session, capsys):
    create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=at("2026-11-01T00:00").date())
    session.commit()
    code, out, err = run(capsys, "ingest", REPO_ROOT / "data" / "samples" / "outcomes.csv", "--account", "acme", "--dry-run")
    assert code == 0, err
    assert json.loads(out)["inserted"] > 0
    assert stored_outcomes(session) == 0


def test_demo_loads_and_resets(engine, session, capsys):
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    first = stored_outcomes(session)
    assert first > 0
    code, out, err = run(capsys, "demo", "--reset")
    assert code == 0, err
    assert stored_outcomes(session) == first


def invoice_total(capsys, slug, month, as_of="2026-12-01T00:00:00Z"):
    code, out, err = run(capsys, "invoice", "--account", slug, "--month", month, "--as-of", as_of, "--json")
    assert code == 0, err
    return json.loads(out)


def new_account(session, slug, plan, since="2026-10-01"):
    create_account(session, slug, slug.title(), SEED_PLANS[plan], since=at(f"{since}T00:00").date())
    session.commit()
    account = get_account(session, slug, principal=OPERATOR)
    (job,) = list_jobs(session, account)
    return account, job


def every(n, start, hours):
    return [at(start) + timedelta(hours=hours * i) for i in range(n)]


def test_invoice_worked_checks_through_the_command(engine, session, capsys):
    # freemium, 25 billable outcomes in the first month -> 0.00, 5 free left
    trial, job = new_account(session, "trial", "freemium", since="2026-11-01")
    add_outcomes(session, trial, job, every(25, "2026-11-02T09:00", 20))
    first = invoice_total(capsys, "trial", "2026-11")
    assert (first["total"], first["free_used"], first["free_remaining"]) == ("0.00", 25, 5)

    # freemium, 30 free used in October, 42 billable outcomes in the full month of November -> 142.00
    # (the 31st outcome comes on 1 November, so the plan is active every day of it)
    paid, job = new_account(session, "paid", "freemium", since="2026-10-01")
    add_outcomes(session, paid, job, every(30, "2026-10-05T09:00", 12))
    add_outcomes(session, paid, job, every(42, "2026-11-01T09:00", 16))
    november = invoice_total(capsys, "paid", "2026-11")
    assert (november["total"], november["free_used"], november["free_remaining"]) == ("142.00", 0, 0)

    # hybrid, 150 outcomes -> 200.00; 260 outcomes -> 320.00
    hybrid, job = new_account(session, "hybrid", "hybrid", since="2026-10-01")
    add_outcomes(session, hybrid, job, every(150, "2026-10-01T06:00", 4))
    add_outcomes(session, hybrid, job, every(260, "2026-11-01T06:00", 2))
    assert invoice_total(capsys, "hybrid", "2026-10")["total"] == "200.00"
    assert invoice_total(capsys, "hybrid", "2026-11")["total"] == "320.00"


def test_members_and_staff_from_the_command_line(engine, session, capsys):
    from app.models import AuditEvent

    create_account(session, "acme", "Acme", SEED_PLANS["freemium"])
    session.commit()
    assert run(capsys, "member", "set", "Ana@Example.com", "--account", "acme", "--role", "admin")[:2] == (
        0, "ana@example.com is admin of acme\n",
    )
    assert run(capsys, "member", "set", "vic@example.com", "--account", "acme", "--role", "viewer")[0] == 0
    assert run(capsys, "staff", "add", "sam@example.com")[0] == 0
    code, out, _ = run(capsys, "member", "list", "--json")
    people = {p["email"]: p for p in json.loads(out)}
    assert people["ana@example.com"]["accounts"] == [{"account": "acme", "role": "admin"}]
    assert people["sam@example.com"]["staff"] and people["sam@example.com"]["accounts"] == []
    # refusals: one line, exit 2, nothing written
    for argv, message in [
        (("member", "set", "not-an-address", "--account", "acme", "--role", "viewer"), "is not an e-mail address"),
        (("member", "set", "x@example.com", "--account", "nope", "--role", "viewer"), "no account 'nope'"),
        (("member", "set", "x@example.com", "--account", "acme", "--role", "owner"), "invalid choice"),
        (("member", "remove", "ana@example.com", "--account", "acme"), "last admin"),
        (("member", "remove", "zed@example.com", "--account", "acme"), "not a member"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
    assert run(capsys, "member", "remove", "vic@example.com", "--account", "acme")[0] == 0
    session.rollback()
    actions = sorted(e.action for e in session.exec(select(AuditEvent)))
    assert actions == ["member.add", "member.add", "member.remove", "staff"]
    assert all(e.actor.startswith("command line (") for e in session.exec(select(AuditEvent)))


def test_invoice_close_makes_months_final_and_json_says_so(engine, session, capsys, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-20T12:00:00Z")
    account, job = new_account(session, "acme", "freemium", since="2026-10-01")
    add_outcomes(session, account, job, every(40, "2026-10-02T09:00", 12))
    draft = invoice_total(capsys, "acme", "2026-10")
    assert (draft["status"], draft["number"], draft["closed_at"], draft["late"]) == ("draft", None, None, [])
    code, out, err = run(capsys, "invoice", "close", "--account", "acme", "--month", "2026-10")
    assert code == 0, err
    assert out == f"Closed ACME-2026-10: {draft['total']} USD, final\n"
    final = invoice_total(capsys, "acme", "2026-10")
    assert final == {**draft, "status": "final", "number": "ACME-2026-10", "closed_at": "2026-11-20T12:00:00+00:00"}
    code, out, err = run(capsys, "invoice", "close", "--account", "acme", "--month", "2026-10")
    assert code == 2 and out == "" and "already closed" in err and len(err.splitlines()) == 1
    code, out, err = run(capsys, "invoice", "close", "--account", "acme", "--month", "2026-11")
    assert code == 2 and "has not ended yet" in err
    code, out, err = run(capsys, "invoice", "close", "--account", "acme", "--month", "2026-10", "--as-of", "2026-11-01")
    assert code == 2 and "takes no --as-of" in err


def test_account_set_grace_days(engine, session, capsys):
    new_account(session, "acme", "freemium", since="2026-10-01")
    code, out, err = run(capsys, "account", "set", "acme", "--grace-days", "7")
    assert code == 0 and "7 days after the month ends" in out, err
    session.rollback()
    assert get_account(session, "acme", principal=OPERATOR).grace_days == 7
    for bad in ("31", "-1"):
        code, out, err = run(capsys, "account", "set", "acme", "--grace-days", bad)
        assert code == 2 and out == "" and "from 0 to 30" in err


def test_an_unreadable_overseer_now_is_an_error_not_a_fallback(engine, capsys, monkeypatch):
    for bad in ("yesterday", "2026-13-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"):
        monkeypatch.setenv("OVERSEER_NOW", bad)
        code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11")
        assert code == 2 and out == "" and "OVERSEER_NOW" in err and len(err.splitlines()) == 1, (bad, err)


def pdf_text(path) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_invoice_pdf_draft_then_final(engine, session, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-01T00:00:00Z")
    account, job = new_account(session, "acme", "hybrid", since="2026-11-01")
    add_outcomes(session, account, job, every(260, "2026-11-01T06:00", 2))
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-30T12:00:00Z")
    draft = tmp_path / "draft.pdf"
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--pdf", draft)
    assert code == 0, err
    assert "the draft invoice" in out and str(draft) in out
    text = pdf_text(draft)
    assert "Draft invoice — may still change until November 2026 closes" in text
    assert "Acme" in text and "Total (USD) 320.00" in text

    monkeypatch.setenv("OVERSEER_NOW", "2026-12-01T09:30:00Z")
    code, out, err = run(capsys, "invoice", "close", "--account", "acme", "--month", "2026-11")
    assert code == 0, err
    final = tmp_path / "final.pdf"
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--pdf", final)
    assert code == 0, err
    assert "invoice ACME-2026-11" in out
    text = pdf_text(final)
    assert "Invoice ACME-2026-11" in text and "Closed 2026-12-01 09:30 UTC" in text
    assert "Total (USD) 320.00" in text and "Draft" not in text
    # A final invoice is the same document whenever it is written.
    again = tmp_path / "again.pdf"
    monkeypatch.setenv("OVERSEER_NOW", "2027-01-15T00:00:00Z")
    assert run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--pdf", again)[0] == 0
    assert again.read_bytes() == final.read_bytes()


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing-folder/invoice.pdf", "no such folder"),
        (".", "it is a folder"),
    ],
)
def test_invoice_pdf_bad_path_writes_nothing(engine, session, capsys, monkeypatch, tmp_path, where, message):
    new_account(session, "acme", "hybrid", since="2026-11-01")
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--as-of", "2026-11-20T00:00:00Z", "--pdf", where)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_invoice_pdf_failed_write_leaves_nothing(engine, session, capsys, monkeypatch, tmp_path):
    import errno
    import os

    new_account(session, "acme", "hybrid", since="2026-11-01")
    folder = tmp_path / "out"
    folder.mkdir()

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # A full disk (or any failed write) as root too, where a read-only folder would not refuse.
    monkeypatch.setattr("app.cli.os.replace", full_disk)
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--as-of", "2026-11-20T00:00:00Z",
                         "--pdf", folder / "invoice.pdf")
    assert code == 2 and out == "" and "cannot write" in err and "No space left" in err
    assert len(err.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_invoice_pdf_refuses_json_too_and_unknown_account(engine, session, capsys, tmp_path):
    new_account(session, "acme", "hybrid", since="2026-11-01")
    target = tmp_path / "x.pdf"
    code, out, err = run(capsys, "invoice", "--account", "acme", "--month", "2026-11", "--pdf", target, "--json")
    assert code == 2 and out == "" and "give one" in err
    code, out, err = run(capsys, "invoice", "--account", "nobody", "--month", "2026-11", "--pdf", target)
    assert code == 2 and out == "" and "no account 'nobody'" in err
    assert not target.exists()


def test_plan_change_now_or_from_a_later_month(engine, session, capsys, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-11T09:00:00Z")
    new_account(session, "acme", "freemium", since="2026-10-01")
    code, out, err = run(capsys, "plan", "change", "--account", "acme", "--plan", PLANS / "hybrid.json", "--effective", "2026-12")
    assert code == 0 and out == "acme moves to plan 'Hybrid' on 2026-12-01\n", err
    code, out, err = run(capsys, "plan", "change", "--account", "acme", "--plan", PLANS / "hybrid.json", "--seats", "3")
    assert code == 0 and "now" in out, err
    for bad, words in (("2026-11", "later month"), ("2026-13", "YYYY-MM"), ("soon", "YYYY-MM")):
        code, out, err = run(capsys, "plan", "change", "--account", "acme", "--plan", PLANS / "hybrid.json", "--effective", bad)
        assert code == 2 and out == "" and words in err and len(err.splitlines()) == 1, (bad, err)
