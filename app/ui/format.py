"""Presentation helpers: every figure shown is formatted here, the same way on every page.

Percentages have one decimal, money carries its currency, an undefined rate is "—".
These helpers only format what the domain computed; they never compute a figure.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal

from app.domain.money import format_money
from app.domain.stats import format_share, wilson_half_width

DASH = "—"

# What a projection's "80% range" means (app.domain.projection), said the same way on every page.
RANGE_MEANING = "8 in 10 months like this one end inside the 80% range, counting how unsure the pace itself is."


def money(amount: Decimal | None, currency: str | None) -> str:
    """``Decimal("1234.5"), "USD"`` → ``"1,234.50 USD"``; None → "—"."""
    return DASH if amount is None else format_money(Decimal(amount), currency)


def share(value: float | Decimal | None) -> str:
    """A share in [0, 1] as ``"87.5%"``; None → "—"."""
    return format_share(None if value is None else float(value))


def rate(rate_obj) -> str:
    """A :class:`app.domain.stats.Rate` as ``"87.5%"`` or "—"."""
    return rate_obj.format()


def rate_with_sample(rate_obj, noun: str = "reviewed", counted: str = "correct") -> str:
    """What a rate counts, in words: ``"35 correct of 40 reviewed"`` (or ``"none reviewed yet"``).

    ``counted`` names the numerator, ``noun`` the denominator: ``("closed", "completed")`` gives
    ``"12 completed of 15 closed"``. "35 of 40 reviewed" would read as if 35 had been reviewed.
    """
    if rate_obj.denominator == 0:
        return f"none {noun} yet"
    return f"{rate_obj.numerator:,} {counted} of {rate_obj.denominator:,} {noun}"


def points(half_width: float | None) -> str:
    """A precision as ``"±12.9"`` (points of a percentage), "—" when there is none."""
    return DASH if half_width is None else f"±{half_width * 100:.1f}"


# What the accuracy's interval means, said the same way wherever accuracy is shown.
ACCURACY_HELP = (
    "Of the completed outcomes someone reviewed, the share judged correct. Unreviewed outcomes never count. "
    "The ± is how sure that figure is: the true accuracy lies in that range 95 times in 100 "
    "(the 95% Wilson interval), and it narrows as more outcomes are reviewed."
)
KAPPA_HELP = (
    "How often two reviewers who judged the same outcome on their own agreed, beyond what chance alone would give "
    "(Cohen's kappa): 1 is full agreement, 0 no better than chance. Counted over the outcomes a second reviewer "
    "judged without seeing the first verdict. Words after Landis and Koch: slight up to 0.20, fair to 0.40, "
    "moderate to 0.60, substantial to 0.80, almost perfect above. Few pairs make it rough."
)


def kappa_caption(agreement) -> str:
    """``"substantial · 24 outcomes reviewed by two people"`` for an :class:`app.domain.agreement.Agreement`."""
    if agreement.pairs == 0:
        return "no outcome reviewed by two people yet"
    over = plural(agreement.pairs, "outcome") + " reviewed by two people"
    if agreement.kappa is None:
        return f"every verdict alike · {over}"
    if agreement.few:
        return f"{agreement.band} · {over}, {agreement.agreed:,} alike: too few pairs to rely on yet"
    return f"{agreement.band} · {over}"


def review_change(before, after, bill_before: Decimal, bill_after: Decimal, currency: str,
                  kappa_before=None, kappa_after=None) -> str:
    """What a review changed, in one line: ``"Accuracy 64.7% → 61.1% (±12.9); bill −1.00 USD"``.

    ``before`` and ``after`` are the accuracy :class:`app.domain.stats.Rate` of the range; the ± is the
    half-width of the new 95% Wilson interval, in points. Kappas are :class:`app.domain.agreement.Agreement`.
    """
    def half(rate):
        return None if rate.denominator == 0 else wilson_half_width(rate.numerator / rate.denominator, rate.denominator)

    if (before.numerator, before.denominator) == (after.numerator, after.denominator):
        parts = [f"Accuracy unchanged at {after.format()}" + (f" ({points(half(after))})" if after.denominator else "")]
    else:
        parts = [f"Accuracy {before.format()} → {after.format()} ({points(half(after))})"]
    delta = Decimal(bill_after) - Decimal(bill_before)
    if delta:
        sign = "+" if delta > 0 else "−"
        parts.append(f"bill {sign}{money(abs(delta), currency)}")
    else:
        parts.append("bill unchanged")
    if kappa_after is not None and kappa_before is not None and kappa_after.pairs != kappa_before.pairs:
        parts.append(f"agreement κ {kappa_before.format()} → {kappa_after.format()} over {plural(kappa_after.pairs, 'pair')}")
    return "; ".join(parts)


def interval(rate_obj) -> str:
    """The 95% Wilson interval as ``"95% CI 80.1%–92.3%"``, or "" without a sample."""
    bounds = rate_obj.wilson()
    if bounds is None:
        return ""
    low, high = bounds
    return f"95% CI {format_share(low)}–{format_share(high)}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "row")`` → ``"1 row"``; ``plural(3, "row")`` → ``"3 rows"``."""
    return f"{n:,} {singular if n == 1 else (plural_form or singular + 's')}"


def count(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def day(d: date | datetime | None) -> str:
    """``2026-11-21`` → ``"21 Nov 2026"``."""
    if d is None:
        return DASH
    return f"{d.day} {d.strftime('%b %Y')}"


def moment(t: datetime | None) -> str:
    """An aware UTC datetime as ``"21 Nov 2026, 14:05 UTC"``."""
    if t is None:
        return DASH
    return f"{t.day} {t.strftime('%b %Y, %H:%M')} UTC"


def date_range(start: date, end: date) -> str:
    if start == end:
        return day(start)
    if start.year == end.year:
        if start.month == end.month:
            return f"{start.day}–{end.day} {end.strftime('%b %Y')}"
        return f"{start.day} {start.strftime('%b')} – {end.day} {end.strftime('%b %Y')}"
    return f"{day(start)} – {day(end)}"


def month_name(year: int, month: int) -> str:
    return date(year, month, 1).strftime("%B %Y")


def short_month(year: int, month: int) -> str:
    """``Dec 2026``."""
    return date(year, month, 1).strftime("%b %Y")


def later_reviews(own) -> str:
    """What later reviews did to a month's own billed outcomes (:class:`app.store.billing.OwnMonthCounts`).

    E.g. ``3 credited in Dec 2026 · 1 charged in Jan 2027`` (charged again after a credit, or first charged when its month did not bill it); empty when nothing changed.
    """
    parts = []
    for (year, month), n in own.credited.items():
        parts.append(f"{n:,} credited in {short_month(year, month)}")
    for (year, month), n in own.free.items():
        parts.append(f"{n:,} free, reviewed incorrect in {short_month(year, month)} (not credited)")
    for (year, month), n in own.charged.items():
        parts.append(f"{n:,} charged in {short_month(year, month)}")
    if own.late and own.late_in:
        parts.append(f"{own.late:,} came late, billed in {short_month(*own.late_in)}")
    return " · ".join(parts)


def step_title(step: str) -> str:
    return step.capitalize()


# --- user text -----------------------------------------------------------------------------------
# Names, outcome ids, job names, step descriptions, comments, file names and error messages that
# quote them are typed by people (or by the AI product that sends outcomes). They must show as the
# text they are, wherever the page puts them. Three places interpret text:
#
# - Streamlit renders Markdown (GitHub-flavoured, plus its own directives: ``:red[...]``,
#   ``:material/icon:``, ``:streamlit:``, emoji shortcodes, ``$math$``, "->" arrows) in st.markdown,
#   st.caption, st.title, alerts, toasts, widget labels, help tooltips and metric values. Its links
#   keep any URL, ``javascript:`` included.
# - Plotly renders a small HTML subset (``<b>``, ``<br>``, ``<a href>``…) and HTML entities in
#   titles, axis labels, legends and hover text, and fills ``%{...}`` in hover templates.
# - Tables (st.dataframe, st.data_editor), selectbox options and input values show text as text.
#
# :func:`text` is for the first, :func:`chart_text` for the second; the third needs nothing.

_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters that start Markdown, HTML or Streamlit syntax anywhere in a line (and quotes, for attributes).
_ALWAYS = frozenset("\\`*_[]<>&~$|:#\"'@")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: Streamlit turns " -> ", " <- ", " <-> ", " -- ", " >= ", " <= ", " ~= " into arrows and signs.
_TYPOGRAPHIC = frozenset("-<>=~")
WORD_JOINER = "\u2060"


def plain(value) -> str:
    """User text as it may be shown anywhere: every character kept, except what cannot be seen or misleads.

    - C0 controls (NUL … US, so also tab and newlines) become their visible symbols (U+2400 …: ``␀``, ``␊``),
      DEL becomes ``␡`` and C1 controls become ``�``;
    - bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069, the marks
      U+200E, U+200F, U+061C) are dropped, so a name cannot reverse the text around it; right-to-left
      scripts still show right to left;
    - lone surrogates (possible from JSON's ``\\ud800``) become ``�``.

    Zero-width joiners stay (emoji sequences and Indic scripts need them). ``None`` → ``""``.
    """
    if value is None:
        return ""
    out: list[str] = []
    for ch in str(value):
        code = ord(ch)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif 0x80 <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif ch in _BIDI_CONTROLS:
            continue
        else:
            out.append(ch)
    return "".join(out)


def text(value) -> str:
    """User text for anything Streamlit renders as Markdown, shown exactly as typed and never interpreted.

    After :func:`plain`, the characters that can start Markdown, HTML or Streamlit syntax are
    written as numeric character references (``*`` → ``&#42;``): CommonMark shows a reference as
    the character and never as syntax, in plain Markdown, inside HTML (``unsafe_allow_html``),
    in attribute values and in GFM table cells alike. Always: ``\\ ` * _ [ ] < > & ~ $ | : # " ' @``
    (emphasis, code, links and images, HTML, entities, strikethrough, math, tables, directives and
    shortcodes, headings, attribute quotes, e-mail autolinks). At the start of the text, where
    block syntax lives: a first punctuation character (``-``/``+`` lists, ``=`` underlines,
    ``>`` quotes…), leading spaces (indented code) and the ``.``/``)`` of ``12.``. The ``.`` of
    ``www.`` (autolinks). Streamlit's text-level replacements (``:material/icon:``, ``:streamlit:``,
    emoji shortcodes, " -> " arrows) run on the decoded text, so an invisible word joiner (U+2060)
    follows every ``:`` and separates ``-<>=~`` pairs. Everything else (letters, digits, ``-``, ``.``,
    ``,``…) stays as it is, so ``T-1042`` and ``outcomes.csv`` read the same in the page's source.

    Use it only where Markdown is rendered (not in st.code, backticks, tables or selectbox
    options, which would show the references); compose the result with the page's own Markdown.
    """
    shown = plain(value)
    out: list[str] = []
    previous = ""
    start = True  # still in leading spaces, or on the first character after them
    digits = 0  # leading digits, for "12." and "12)"
    for i, ch in enumerate(shown):
        if ch in _TYPOGRAPHIC and previous in _TYPOGRAPHIC:
            out.append(WORD_JOINER)
        encode = (
            ch in _ALWAYS
            or (start and (ch == " " or ch in _ASCII_PUNCTUATION))
            or (ch in ".)" and digits == i and i > 0)
            or (ch == "." and shown[max(0, i - 3) : i].lower() == "www")
        )
        out.append(f"&#{ord(ch)};" if encode else ch)
        if ch == ":":
            out.append(WORD_JOINER)
        if ch.isdigit() and digits == i:
            digits += 1
        start = start and ch == " "
        previous = ch
    return "".join(out)


def chart_text(value) -> str:
    """User text for a plotly title, axis or category label, legend entry or hover text.

    :func:`plain`, then ``&``, ``<`` and ``>`` as HTML entities (plotly shows them as the characters
    and never as its ``<b>``/``<br>``/``<a>`` tags) and ``%`` as ``&#37;``, so a hover template
    never fills a ``%{...}`` that came from the data.
    """
    return html.escape(plain(value), quote=False).replace("%", "&#37;")


def projection_range(proj, currency: str) -> str:
    """The 80% range of a projection in one Markdown sentence, each end with the outcomes it prices.

    ``"80% range: **12.00 USD** (about 40 billable outcomes) to **25.00 USD** (about 55)."``
    """
    low, high = money(proj.low, currency), money(proj.high, currency)
    if proj.low_outcomes is None or proj.high_outcomes is None:
        return f"80% range: **{low}** to **{high}**."
    if proj.low_outcomes == proj.high_outcomes:
        return f"80% range: **{low}** to **{high}** (about {proj.low_outcomes:,} billable outcomes either way)."
    return (
        f"80% range: **{low}** (about {proj.low_outcomes:,} billable outcomes) "
        f"to **{high}** (about {proj.high_outcomes:,})."
    )


def readiness(r) -> tuple[str, str]:
    """A trial's :class:`~app.store.trial.Readiness` as (short value, sentence).

    "Ready" only when every set target is met with its 95% interval clear of it;
    "Likely ready: review N more outcomes to be sure" when a target is met but its
    interval still crosses it (N from :func:`app.domain.stats.more_to_clear`);
    "No targets set" when there are none.
    """
    if r.state == "no targets":
        return "No targets set", "No targets set: set a completion or accuracy target on the Billing page to judge readiness."
    if r.state == "no outcomes":
        return "Not yet", "Not yet: no outcome delivered yet."
    if r.state == "not yet":
        return "Not yet", "Not yet: below target on " + " and ".join(n.lower() for n in r.failing) + "."
    if r.state == "ready":
        return "Ready", "Ready: every target set is met, with its 95% interval clear of it."
    steps = []
    for name, n in r.unsure:
        if n is None:
            steps.append(f"{name.lower()} sits exactly on its target, so no number of outcomes makes it sure")
        elif name == "Accuracy":
            steps.append(f"review {n:,} more {'outcome' if n == 1 else 'outcomes'}")
        else:
            steps.append(f"close {n:,} more {'outcome' if n == 1 else 'outcomes'}")
    sure = [s for s in steps if not s.endswith("makes it sure")]
    sentence = "Likely ready: " + " and ".join(sure) + " to be sure" if sure else "Likely ready"
    rest = [s for s in steps if s.endswith("makes it sure")]
    if rest:
        sentence += (": " if not sure else "; ") + "; ".join(rest)
    return "Likely ready", sentence + "."


def before_subscription(report) -> str:
    """What an import report says of its outcomes completed before the subscription began ("" when none)."""
    n = report.before_subscription
    if not n or report.subscription_start is None:
        return ""
    return (
        f"{n:,} of {'its outcomes was' if n == 1 else 'its outcomes were'} completed before the subscription "
        f"started on {day(report.subscription_start)}: stored and shown, but never billed."
    )


def coverage_explained(automated: int, assisted: int, coverage) -> str:
    """How configured coverage is made: ``"(5 automated + ½ × 3 assisted) / 8 steps = 81.2%: …"``."""
    return (
        f"Configured coverage is the share of the eight steps the job map gives the AI: automated steps count whole, "
        f"assisted ones half — ({automated} automated + ½ × {assisted} assisted) / 8 steps = {share(coverage)}. "
        "It is what the map says; the observed AI share below is what the AI actually did."
    )


def weakest_step_sentence(w, several_jobs: bool) -> str:
    """The Overview's answer to "where does the AI hand off most?" (Markdown, user text escaped)."""
    where = f"**{step_title(w.step)}**" + (f" ({text(w.job_name)})" if several_jobs else "")
    return (
        f"The AI hands off most at {where}: {w.handoffs:,} handoffs, "
        f"{share(w.rate.value)} of the {w.reached:,} outcomes that reached it."
    )
