"""The frame every page shares: the sidebar (account, date range, plan at a glance) and its context.

The account picker and the date range are bound to the URL
(``bind="query-params"``), so a copied link opens the same view:
``?account=Acme+Support&range=2026-11-01&range=2026-11-24``. The account is
carried by its name as shown in the picker (with the slug added when two
accounts share a name).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

import streamlit as st

from app.core import clock
from app.domain.errors import OverseerError
from app.ui import auth, data, paint, tour
from app.ui import format as fmt

log = logging.getLogger("overseer.ui")


@dataclass(frozen=True)
class Context:
    """What the sidebar selected: every page reads it through :func:`context`."""

    account: data.AccountInfo | None
    start: date
    end: date
    as_of: datetime

    @property
    def slug(self) -> str:
        assert self.account is not None
        return self.account.slug

    @property
    def range_label(self) -> str:
        return fmt.date_range(self.start, self.end)


_KEY = "_overseer_context"


def account_labels(accounts: list[data.AccountInfo]) -> dict[str, str]:
    """Slug → the label the sidebar's account picker shows (and puts in ``?account=``): the name, with the slug
    added when two accounts share a name."""
    names = [a.name for a in accounts]
    return {a.slug: (a.name if names.count(a.name) == 1 else f"{a.name} ({a.slug})") for a in accounts}


def sidebar(pickers_as_text: bool = False) -> Context:
    """Draw the sidebar and return (and remember) the context.

    ``pickers_as_text``: the page is figures first (:data:`app.ui.paint.FIGURES_FIRST`), so a browser
    session's first run shows what the pickers hold as text.
    """
    as_of = data.as_of_key()
    today = as_of.date()
    month_start = today.replace(day=1)
    accounts = data.accounts()
    account = None
    labels = account_labels(accounts)
    wanted = st.query_params.get("account")
    if wanted is not None and wanted not in labels.values():
        # An account that does not exist and one this person may not see look the same.
        account_not_found(wanted)
        auth.user_panel(data.current_principal())  # so they can still sign out
        paint.stop()
    # A browser session's first run shows what the pickers hold as text: their code (two dozen files
    # the browser fetches six at a time) held the page's figures back (app.ui.paint). In a new session
    # only the address can have set them; the next run, a moment later, draws the pickers themselves.
    as_text = pickers_as_text and not paint.charts_now()
    with st.sidebar:
        if accounts and as_text:
            slug = next((s for s, label in labels.items() if label == wanted), accounts[0].slug)
            picker_as_text("Account", labels[slug])
            account = next(a for a in accounts if a.slug == slug)
        elif accounts:
            slug = st.selectbox(
                "Account",
                options=[a.slug for a in accounts],
                format_func=lambda s: labels.get(s, s),
                key="account",
                bind="query-params",
                help="The customer account every page shows. The choice is kept in the page address, so a copied link opens the same view.",
            )
            account = next((a for a in accounts if a.slug == slug), accounts[0])
        if as_text and "range" not in st.query_params:
            picked = (month_start, today)
            picker_as_text("Date range (UTC)", f"{month_start:%Y-%m-%d} – {today:%Y-%m-%d}")
        else:
            picked = st.date_input(
                "Date range (UTC)",
                value=(month_start, today),
                key="range",
                bind="query-params",
                format="YYYY-MM-DD",
                help="Outcomes count on the day they were completed (open ones on the day they started).",
            )
        start, end = _range(picked, month_start, today)
        if account is not None:
            _plan_card(account, as_of)
        st.caption(f"Figures as of {fmt.moment(as_of)}")
    ctx = Context(account=account, start=start, end=end, as_of=as_of)
    st.session_state[_KEY] = ctx
    return ctx


def picker_as_text(label: str, value: str) -> None:
    """What a picker holds, shown where it will be, until the next run draws it (a browser session's first run).

    One container, as the picker is one element: what follows keeps its place in the page, so the
    next run does not redraw the figures below it (they would blink).
    """
    with st.container():
        st.caption(label)
        st.markdown(f"**{fmt.text(value)}**")


def _range(picked, default_start: date, default_end: date) -> tuple[date, date]:
    # A day outside 1970-2100 (a changed link: ?range=0001-01-01) is ignored like any value the page
    # does not offer: near year 1 or 9999 the day before or after would not exist.
    if isinstance(picked, date):
        picked = (picked,)
    values = [v for v in (picked or ()) if v is not None and clock.FIRST_YEAR <= v.year <= clock.LAST_YEAR]
    if not values:
        return default_start, default_end
    if len(values) == 1:
        return values[0], values[0]
    start, end = values[0], values[1]
    return (start, end) if start <= end else (end, start)


def _plan_card(account: data.AccountInfo, as_of: datetime) -> None:
    try:
        sub, spec = data.plan(account.slug)
        state = data.billing_state(account.slug, as_of)
    except OverseerError as exc:
        st.warning(fmt.text(str(exc)))
        return
    except Exception:  # the sidebar must never take a page down
        log.exception("plan card failed")
        return
    with st.container(border=True, key="plan_card"):
        st.markdown(f"**{fmt.text(spec.name)}** · plan")
        if state.free_total:
            st.progress(
                min(1.0, state.free_used / state.free_total),
                text=f"{state.free_used:,} of {state.free_total:,} free outcomes used",
            )
        if state.activated_on is not None:
            st.caption(f"Paid plan active since {fmt.day(state.activated_on)}")
        elif state.free_total:
            st.caption(f"Free trial · {state.free_remaining:,} free outcomes left")
        else:
            st.caption(f"Subscribed since {fmt.day(sub.started_on)}")


def switch_page(page: str) -> NoReturn:
    """``st.switch_page`` that works while the sidebar's widgets are bound to the URL.

    Plain ``st.switch_page(page)`` clears every query parameter and refuses ("Cannot clear query
    parameters") while ``?account=`` and ``?range=`` are bound to widgets. An empty mapping drops only
    the unbound parameters; the bound widgets keep their values and write them back into the next page's URL.
    To open another account, set ``st.session_state["account"]`` in a widget callback first.
    """
    st.switch_page(page, query_params={})


def context() -> Context:
    """The context the sidebar set in this run."""
    ctx = st.session_state.get(_KEY)
    if ctx is None:  # a page run without the entry script (should not happen)
        ctx = sidebar()
    return ctx


def require_account() -> Context:
    """The context, or an empty state with the next step (and the page stops) when there is no account."""
    ctx = context()
    if ctx.account is None:
        no_accounts()
        paint.stop()
    # A month whose grace period ended closes before any of its figures is shown.
    data.settle_months(ctx.slug)
    return ctx


def account_not_found(wanted: str) -> None:
    """What a link to an account that does not exist, or that this person may not see, shows."""
    with st.container(border=True, key="account_not_found"):
        st.subheader("Account not found")
        st.markdown(
            f"There is no account called **{fmt.text(wanted[:200])}** that you can open. "
            "Check the link, or open one of your accounts."
        )
        st.markdown("[Open your accounts](/)")


def require_admin(what: str) -> Context:
    """The context, or (and the page stops) a note that only the account's admins can ``what``."""
    ctx = require_account()
    if not ctx.account.can_edit:
        with st.container(border=True):
            st.markdown(f":material/lock: Only an admin of **{fmt.text(ctx.account.name)}** can {what}.")
            st.caption("Ask one of the account's admins to give you the admin role on the Members page.")
        paint.stop()
    return ctx


def no_accounts() -> None:
    """The empty state of a fresh database (or of someone who belongs to no account yet)."""
    who = data.current_principal()
    if not who.sees_every_account:
        auth.no_access(who)
        return
    with st.container(border=True):
        st.subheader("No accounts yet")
        st.markdown(
            "Overseer shows what your AI delivered, how well, where people step in, and what you will pay. "
            "Start with the demo data — realistic customer accounts with a few months of outcomes — "
            "or add your own account from the command line."
        )
        if st.button("Load the demo data", type="primary", icon=":material/play_arrow:", key="load_demo_empty"):
            with st.spinner("Loading the demo accounts…"):
                try:
                    data.load_demo()
                except OverseerError as exc:
                    st.error(fmt.text(exc))
                    return
            # The demo button starts the tour: its first step, on its account (the picker is not drawn yet).
            tour.start(tour.STEPS[0].slug)
            switch_page(tour.STEPS[0].page)
        st.caption(
            "From a terminal: `overseer demo` loads the same data; "
            "`overseer account add SLUG --name NAME --plan PLAN.json` adds your own account, "
            "then import outcomes on the **Import** page."
        )


def page_header(title: str, ctx: Context, subtitle: str | None = None, *, show_range: bool = True) -> None:
    st.title(title)
    parts = []
    if ctx.account is not None:
        parts.append(f"**{fmt.text(ctx.account.name)}**")
    if show_range:
        parts.append(ctx.range_label)
    if subtitle:
        parts.append(subtitle)
    st.caption(" · ".join(parts))


def show_error(exc: BaseException) -> None:
    """Show an error in the page without a traceback."""
    if isinstance(exc, OverseerError):
        st.error(fmt.text(str(exc)), icon=":material/error:")
    elif (problem := data.database_problem(exc)) is not None:
        # The database went away (or never came) after start-up: say so, and what to do, in one line.
        log.warning("database problem: %s", exc)
        st.error(fmt.text(problem), icon=":material/error:")
    else:
        log.exception("page failed", exc_info=exc)
        st.error(
            "Something went wrong while drawing this page. Nothing was changed. "
            "Try again, or pick another account or date range.",
            icon=":material/error:",
        )
