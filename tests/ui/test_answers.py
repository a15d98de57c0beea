"""Clear answers on every page (issue 17): each new figure and wording, checked against the data layer."""

from __future__ import annotations

from decimal import Decimal

from tests.ui.conftest import make_app, no_errors


def _amount(text: str) -> Decimal:
    return Decimal(text.split()[0].replace(",", ""))


def _table_ending(at, last_item):
    """The table whose last row's Item is ``last_item`` (AppTest does not expose a dataframe's key)."""
    for d in at.dataframe:
        frame = d.value
        if "Item" in frame.columns and len(frame) and frame["Item"].iloc[-1] == last_item:
            return frame
    raise AssertionError(f"no table ending with {last_item!r}")


def test_the_projected_bill_shows_lines_that_add_up_to_its_total(demo_engine, demo_slugs):
    from app.ui import data
    from app.ui import format as fmt

    at = make_app()
    at.run()
    for slug in demo_slugs:
        at.sidebar.selectbox(key="account").set_value(slug).run()
        at.switch_page("ui/pages/billing.py").run()
        no_errors(at)
        proj = data.invoice(slug, 2026, 11, data.as_of_key()).projected
        cur = data.account(slug).currency
        shown = next(m for m in at.metric if m.label == "Projected bill").value
        assert shown == fmt.money(proj.total, cur)
        table = _table_ending(at, "Projected total")
        *lines, total = table.to_dict("records")
        assert total["Item"] == "Projected total" and total["Amount"] == shown
        assert sum(_amount(r["Amount"]) for r in lines) == proj.total
        assert [r["Item"] for r in lines] == [line.description for line in proj.lines]
        assert any(fmt.projection_range(proj, cur) == m.value for m in at.markdown)
        at.switch_page("ui/pages/overview.py").run()


def test_trial_readiness_says_each_state_honestly(demo_engine):
    from decimal import ROUND_FLOOR

    from app.domain.stats import more_to_clear
    from app.ui import data

    slug = "trial-midway"
    at = make_app()
    at.run()
    at.sidebar.selectbox(key="account").set_value(slug).run()
    at.switch_page("ui/pages/trial.py").run()
    no_errors(at)
    accuracy = data.trial_status(slug, data.as_of_key()).checks[1].rate
    assert accuracy.denominator, "the demo trial has reviews"
    observed = Decimal(accuracy.numerator) / accuracy.denominator
    # Just under the accuracy seen: met, but on the demo's sample the interval still crosses it.
    near = (observed - Decimal("0.01")).quantize(Decimal("0.001"), rounding=ROUND_FLOOR)
    n = more_to_clear(accuracy.numerator, accuracy.denominator, float(near))
    assert n and n > 0
    cases = [
        (None, "No targets set", "No targets set: set a completion or accuracy target on the Billing page to judge readiness."),
        (near, "Likely ready", f"Likely ready: review {n:,} more outcomes to be sure."),
        (Decimal("0.05"), "Ready", "Ready: every target set is met, with its 95% interval clear of it."),
    ]
    if observed < 1:
        cases.append((Decimal("1"), "Not yet", None))
    for target, value, sentence in cases:
        data.save_account_settings(slug, monthly_budget=None, target_completion_rate=None, target_accuracy=target)
        at.run()
        no_errors(at)
        assert next(m.value for m in at.metric if m.label == "Conversion readiness") == value, target
        if sentence and value != "Ready":
            assert any(w.value == sentence for w in at.warning), [w.value for w in at.warning]
        elif sentence:
            assert any(s.value == sentence for s in at.success)
