"""One colour per status, verdict and coverage level, used by every chart and table."""

from __future__ import annotations

STATUS_COLORS: dict[str, str] = {
    "completed": "#2E9E6B",  # green: delivered by the AI
    "escalated": "#E8A33D",  # amber: a person finished it
    "failed": "#D9534F",  # red: no outcome
    "open": "#8A94A6",  # grey: still running
}
STATUS_LABELS: dict[str, str] = {
    "completed": "Completed",
    "escalated": "Escalated",
    "failed": "Failed",
    "open": "Open",
}

VERDICT_COLORS: dict[str, str] = {
    "correct": "#2E9E6B",
    "incorrect": "#D9534F",
    "unreviewed": "#8A94A6",
}
VERDICT_LABELS: dict[str, str] = {"correct": "Correct", "incorrect": "Incorrect", "unreviewed": "Unreviewed"}

COVERAGE_COLORS: dict[str, str] = {
    "automated": "#2F5BEA",  # blue: the AI does it
    "assisted": "#8FA8F5",  # light blue: the AI does it, a person approves
    "manual": "#C9CED8",  # grey: a person does it
}
# Observed AI share in bands, as (upper edge, colour): narrow at the top, where most steps sit, so 84% and 100% (or
# 72% and 100%) land in different bands; red for little, through amber, to dark blue for nearly all. Neighbouring
# bands differ in hue and lightness (ColorBrewer RdYlBu, colour-blind safe); the cell's text gives the exact share.
SHARE_BANDS: tuple[tuple[float, str], ...] = (
    (0.5, "#D73027"), (0.7, "#FC8D59"), (0.8, "#FEE090"), (0.9, "#E0F3F8"), (0.95, "#91BFDB"), (1.0, "#4575B4"),
)
COVERAGE_LABELS: dict[str, str] = {
    "automated": "Automated — the AI does it",
    "assisted": "Assisted — the AI does it, a person approves",
    "manual": "Manual — a person does it",
}
COVERAGE_SHORT: dict[str, str] = {"automated": "Automated", "assisted": "Assisted", "manual": "Manual"}

PERFORMER_LABELS: dict[str, str] = {"ai": "AI", "human": "Person"}

PRIMARY = "#2F5BEA"
TARGET = "#1B2333"
MUTED = "#8A94A6"
SEVERITY_ICONS = {"critical": ":material/error:", "warning": ":material/warning:"}
