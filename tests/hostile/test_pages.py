"""Every page, drawn for an account whose every text is hostile: no exception, and no text interpreted.

Streamlit renders Markdown (and its directives) in st.markdown, captions, titles, alerts, toasts, widget
labels, help tooltips and metric values; plotly renders HTML-like tags in chart text. Every string of
those kinds on every page is checked: a hostile string must never appear there as it is (or merely
HTML-escaped), and the escaped form (app.ui.format.text) must appear where the page shows that text.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from google.protobuf.message import Message
from sqlalchemy import insert
from sqlmodel import Session, select

from app.domain.plans import parse_plan
from app.models import Job, JobStep, Outcome
from app.store.accounts import create_account
from app.store.reviews import record_review
from app.ui import format as fmt
from tests.hostile.corpus import ITEMS, as_outcome_id
from tests.hostile.markdown_check import triggers
from tests.ui.conftest import REPO, make_app, no_errors

ACCOUNT = "**Acme** [x](javascript:alert(1)) <img src=x onerror=alert(1)> :red[r] :material/home: $x$ -> y"
PLAN = "<script>alert('plan')</script> __Plan__ :streamlit:"
JOB_NAME = "# Job [link](javascript:alert(1)) ![i](http://example.com/i.png) :smile: ~~s~~"
UNIT = "**unit** <b>u</b> | cell |"
REVIEWER = "<b>Eve</b> **reviewer** :blue[x]"
COMMENT = "[click](javascript:alert(1)) <script>alert(1)</script>\n\n# heading\n| a | b |"
DESCRIPTIONS = [
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "line one\n\n<script>alert(1)</script> after a blank line",
    "**bold** _it_ `code` ~~s~~",
    "[link](javascript:alert(1)) ![img](http://example.com/x.png)",
    ":red[red] :material/home: :streamlit: :smile:",
    "%{x} <b>plotly</b> <br> <a href='http://example.com'>a</a>",
    "$E=mc^2$ | a | b |",
]
NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
PAGES = [
    "overview.py", "outcomes.py", "job_map.py", "billing.py", "portfolio.py", "value.py",
    "pricing.py", "trial.py", "import_data.py", "demo.py", "members.py", "audit.py", "notifications.py",
]
# Proto fields that Streamlit renders as Markdown (body of markdown, caption, title, alerts, toasts, metric values;
# labels, help and progress text of widgets and containers).
MARKDOWN_FIELDS = {"body", "label", "help", "text", "caption"}
# Elements whose text is shown as text (code, tables, plain inputs) or is not text.
NOT_MARKDOWN = {"code", "arrow_data_frame", "arrow_table", "plotly_chart", "json", "text_input", "text_area", "exception", "empty"}


def _ids() -> list[str]:
    picked = [i.text for i in ITEMS if i.kind in ("html", "markdown", "streamlit", "formula", "sql", "format-string", "script")]
    ids = []
    for text in picked:
        stored, _ = as_outcome_id(text)
        if stored and stored not in ids:
            ids.append(stored)
    return ids[:60]


OUTCOME_IDS = _ids()


@pytest.fixture
def hostile(engine):
    """One account whose name, plan, job, unit, step descriptions, outcome ids, reviewers and comments are hostile."""
    with Session(engine, expire_on_commit=False) as s:
        plan = parse_plan({"name": PLAN, "currency": "USD", "free_outcomes": 30, "base_fee": "100.00", "outcome_price": "1.00"})
        acc = create_account(s, "hostile", ACCOUNT, plan, since=date(2026, 10, 1))
        s.commit()
        job = s.exec(select(Job).where(Job.account_id == acc.id)).one()
        job.name, job.outcome_unit = JOB_NAME, UNIT
        s.add(job)
        for step, text in zip(s.exec(select(JobStep).where(JobStep.job_id == job.id).order_by(JobStep.position)), DESCRIPTIONS, strict=True):
            step.description = text
            s.add(step)
        s.commit()
        rows = []
        for n, outcome_id in enumerate(OUTCOME_IDS):
            done = NOW - timedelta(days=n % 20, hours=1 + n % 5)
            status = ("completed", "escalated", "failed", "completed")[n % 4]
            rows.append({
                "account_id": acc.id, "job_id": job.id, "outcome_id": outcome_id,
                "started_at": done - timedelta(minutes=30), "completed_at": done, "status": status,
                "verdict": "unreviewed", "updated_at": done,
                "handoff_step": "confirm" if status == "escalated" else None,
                **{f"step_{st}": ("ai" if k < 4 or status == "completed" else "human") for k, st in enumerate(
                    ("define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude"))},
            })
        s.execute(insert(Outcome), rows)
        s.commit()
        for outcome in list(s.exec(select(Outcome).where(Outcome.account_id == acc.id)))[:12]:
            record_review(s, outcome, "incorrect", REVIEWER, COMMENT, at=NOW - timedelta(minutes=5))
        s.commit()
    return acc


def _strings(message: Message, path: str = ""):
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            children = value if field.is_repeated else [value]
            for child in children:
                yield from _strings(child, f"{path}.{field.name}")
        elif field.type == field.TYPE_STRING and field.name in MARKDOWN_FIELDS and not field.is_repeated:
            yield f"{path}.{field.name}", value


def markdown_sources(at) -> list[tuple[str, str]]:
    """Every string the page sends that Streamlit renders as Markdown, with where it came from."""
    found = []
    for node in at._tree:
        if getattr(node, "type", None) in NOT_MARKDOWN:
            continue
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            found += [(f"{node.type}{where}", text) for where, text in _strings(proto)]
    return found


def chart_strings(at) -> list[str]:
    out = []

    def walk(value):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for chart in [*at.get("plotly_chart"), *at.get("vega_lite_chart")]:
        walk(json.loads(chart.proto.spec))
    return out


HOSTILE = [ACCOUNT, PLAN, JOB_NAME, UNIT, REVIEWER, COMMENT, *DESCRIPTIONS, *OUTCOME_IDS]
# The parts of each hostile string that Markdown or plotly would act on, checked as substrings.
FRAGMENTS = sorted(
    {
        f
        for text in HOSTILE
        for f in [text, *text.split()]
        # A bare tag such as "<br>" or "<b>" is also Overseer's own markup (charts, badges): left to the whole strings.
        if len(f) >= 4 and triggers(f) and not f.startswith("&#") and not re.fullmatch(r"</?\w+>?", f)
    }
)


def assert_inert(at, page: str) -> None:
    for where, source in markdown_sources(at):
        for fragment in FRAGMENTS:
            for form in {fragment, html.escape(fragment), html.escape(fragment, quote=False)}:
                assert form not in source, f"{page}: {where} shows {fragment!r} unescaped: {source[:300]!r}"
    chart_fragments = [f for f in FRAGMENTS if "<" in f] + [t.strip() for t in HOSTILE if "%{" in t]
    for text in chart_strings(at):
        for fragment in chart_fragments:
            assert fragment not in text, f"{page}: a chart shows {fragment!r} as markup: {text[:300]!r}"


def _open(at, page: str):
    at.switch_page(f"ui/pages/{page}").run()
    no_errors(at)
    return at


def test_the_check_catches_unescaped_text():
    # The assertion the pages are held to must fail on raw, or merely HTML-escaped, user text.
    for raw in (ACCOUNT, html.escape(JOB_NAME), f"**{UNIT}**", DESCRIPTIONS[5]):
        hits = [f for f in FRAGMENTS if f in raw or html.escape(f) in raw]
        assert hits, raw
    for text in HOSTILE:
        escaped = fmt.text(text)
        assert not [f for f in FRAGMENTS if f in escaped or html.escape(f) in escaped], text


def test_every_page_shows_hostile_text_as_text(hostile):
    at = make_app()
    at.run()
    no_errors(at)
    assert_inert(at, "start")
    seen_pages = 0
    for page in PAGES:
        if not (REPO / "app" / "ui" / "pages" / page).exists():
            continue
        _open(at, page)
        assert_inert(at, page)
        seen_pages += 1
    assert seen_pages >= 10
    # The account's name and the plan's name are shown, escaped (nothing lost).
    at.switch_page("ui/pages/overview.py").run()
    sources = [s for _, s in markdown_sources(at)]
    assert any(fmt.text(ACCOUNT) in s for s in sources)
    assert any(fmt.text(PLAN) in s for s in sources)


def test_outcome_detail_and_review_history_show_hostile_text_as_text(hostile):
    at = make_app()
    at.run()
    _open(at, "outcomes.py")
    # The review queue opens its first outcome: the id in the header, the job in the caption.
    sources = [s for _, s in markdown_sources(at)]
    assert any(s.startswith("#### ") and any(fmt.text(i) in s for i in OUTCOME_IDS) for s in sources), sources[:20]
    assert any(fmt.text(JOB_NAME) in s for s in sources)
    assert_inert(at, "outcomes: queue")
    # Every outcome of the table, opened one by one, with its review history.
    at.segmented_control(key="view").set_value("All outcomes").run()
    no_errors(at)
    box = at.selectbox(key="detail_pick")
    options = list(box.options)
    assert len(options) >= min(len(OUTCOME_IDS), 50)
    reviewed = 0
    for option in options:
        at.selectbox(key="detail_pick").set_value(option).run()
        no_errors(at)
        assert_inert(at, f"outcomes: detail {option[:40]!r}")
        history = [d for d in at.dataframe if "Reviewer" in d.value.columns]
        if history:
            reviewed += 1
            frame = history[0].value
            # Tables show text as text: the reviewer and comment exactly as saved.
            assert set(frame["Reviewer"]) == {REVIEWER.strip()} and set(frame["Comment"]) == {COMMENT}
    assert reviewed >= 1


def test_job_map_hover_and_step_trail_escape_descriptions(hostile):
    at = make_app()
    at.run()
    _open(at, "job_map.py")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    hover = "\n".join(t for trace in spec["data"] for t in (trace.get("hovertext") or []) if isinstance(t, str))
    assert fmt.chart_text("<img src=x onerror=alert(1)>") in hover
    assert "<img" not in hover and "<script" not in hover and "%{x}" not in hover
    assert spec["layout"]["title"]["text"].startswith(fmt.chart_text(JOB_NAME)[:20])


def test_a_hostile_upload_name_and_content_are_shown_as_text(hostile):
    at = make_app()
    at.run()
    _open(at, "import_data.py")
    name = "**x** <img src=x onerror=alert(1)> [a](javascript:alert(1)).csv"
    rows = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n" + "".join(
        f'"{i.replace(chr(34), chr(34) * 2)}",customer-support,2026-11-20T10:00:00Z,2026-11-20T10:30:00Z,completed,,\n'
        for i in OUTCOME_IDS[:10]
    )
    at.file_uploader(key="upload").upload(name, rows.encode(), "text/csv")
    at.run()
    no_errors(at)
    sources = [s for _, s in markdown_sources(at)]
    assert any(fmt.text(name) in s for s in sources)
    for where, source in markdown_sources(at):
        assert "<img" not in source and "**x**" not in source and "](javascript" not in source, (where, source)
