"""Exact money: Decimal amounts rounded to cents half-up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
UNIT_PRICE_PLACES = 6

# ISO 4217 active codes: a plan in any other currency is refused.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
    MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG
    SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN
    UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()
)


def round_cents(amount: Decimal) -> Decimal:
    """Round to cents, half away from zero (``round()`` would round half to even)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value, what: str, *, places: int = UNIT_PRICE_PLACES) -> Decimal:
    """Parse a non-negative money amount given as a string or integer.

    Floats are refused: ``0.1`` as a float is not one tenth.

    Raises
    ------
    ValueError
        With a message naming ``what`` and the rule it breaks.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{what} must be a string such as \"1.00\", not {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    if amount < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    if -amount.as_tuple().exponent > places:
        raise ValueError(f"{what} has more than {places} decimal places: {value}")
    return amount


def format_money(amount: Decimal, currency: str | None = None) -> str:
    """``Decimal("1234.5")`` → ``"1,234.50 USD"`` (or ``"1,234.50"`` without a currency)."""
    text = f"{round_cents(amount):,.2f}"
    return f"{text} {currency}" if currency else text


def money_str(amount: Decimal) -> str:
    """Money as exchanged in JSON: a string with two decimals, no grouping."""
    return f"{round_cents(amount):.2f}"
