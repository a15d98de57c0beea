"""How far two reviewers agree: Cohen's kappa over outcomes reviewed by two people, and a plain reading of it.

Pure functions. Kappa is the agreement observed beyond what chance alone
would give, ``(p_o - p_e) / (1 - p_e)``, where ``p_o`` is the share of
outcomes both reviewers judged alike and ``p_e`` the share expected if each
judged at random with their own rates of ``correct`` and ``incorrect``.
1 is full agreement, 0 no better than chance, below 0 worse than chance.
It is undefined (None) without pairs, and when both reviewers gave one and
the same verdict every time (``p_e`` is 1: nothing to tell apart from chance).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# Landis and Koch (1977), "The measurement of observer agreement for categorical data":
# the upper bound of each band and its word.
_BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Cohen's kappa of ``(first verdict, second verdict)`` pairs; None when undefined.

    Any labels work (``correct``/``incorrect`` here); agrees with
    ``sklearn.metrics.cohen_kappa_score`` (``tests/domain/test_agreement.py``).
    """
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    observed = sum(1 for a, b in pairs if a == b) / n
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


def landis_koch(kappa: float | None) -> str:
    """The band of Landis and Koch a kappa falls in: "poor" (below 0), "slight" (to 0.20), "fair", "moderate",
    "substantial", "almost perfect" (above 0.80); "—" when undefined."""
    if kappa is None:
        return "—"
    if kappa < 0:
        return "poor"
    for upper, word in _BANDS[1:]:
        if kappa <= upper:
            return word
    return _BANDS[-1][1]


#: Below this many pairs a kappa swings with a single verdict (one disagreement among five turns
#: "perfect" into "poor" when most outcomes are correct), so its reading says it is rough.
FEW_PAIRS = 20


@dataclass(frozen=True)
class Agreement:
    """Agreement between reviewers over the outcomes two people reviewed.

    Attributes
    ----------
    pairs : int
        Outcomes with a first verdict and a blind second one.
    agreed : int
        Of those, how many got the same verdict twice.
    kappa : float or None
        Cohen's kappa (:func:`cohen_kappa`), None when undefined.
    """

    pairs: int = 0
    agreed: int = 0
    kappa: float | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Agreement:
        pairs = list(pairs)
        return cls(pairs=len(pairs), agreed=sum(1 for a, b in pairs if a == b), kappa=cohen_kappa(pairs))

    @property
    def band(self) -> str:
        """Landis and Koch's word for :attr:`kappa`."""
        return landis_koch(self.kappa)

    @property
    def few(self) -> bool:
        """Too few pairs (under :data:`FEW_PAIRS`) for the kappa to be more than a rough reading."""
        return 0 < self.pairs < FEW_PAIRS

    def format(self) -> str:
        """``"0.63"`` (``"−0.25"`` with a true minus sign), or "—" when undefined."""
        return "—" if self.kappa is None else f"{self.kappa:.2f}".replace("-", "\u2212")

    def reading(self) -> str:
        """One plain sentence: ``"substantial agreement (Landis and Koch) over 24 outcomes reviewed by two people; 22 alike"``."""
        if self.pairs == 0:
            return "no outcome reviewed by two people yet"
        over = f"over {self.pairs:,} outcome{'s' if self.pairs != 1 else ''} reviewed by two people; {self.agreed:,} judged alike"
        if self.kappa is None:
            return f"not measurable {over}: every verdict was the same, so chance explains it all"
        rough = f"; fewer than {FEW_PAIRS} pairs, so a rough reading" if self.few else ""
        return f"{self.band} agreement (Landis and Koch) {over}{rough}"


__all__ = ["FEW_PAIRS", "Agreement", "cohen_kappa", "landis_koch"]
