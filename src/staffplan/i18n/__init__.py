"""Languages of the web pages and the HTML report: gettext message catalogs read with Babel, and
numbers, dates and times formatted for the locale by Babel (CLDR data).

English is the source language (the ``msgid`` of every message). Each other language is one
catalog, ``locale/<code>/LC_MESSAGES/messages.po`` next to this file: adding a language is adding
a catalog (see docs/formats.md, "Languages"). Catalogs are compiled in memory when first used,
so there is no build step.
"""

from __future__ import annotations

import copy
import datetime as dt
import gettext as _gettext
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = "en"
CATALOGS = Path(__file__).resolve().parent / "locale"


def languages() -> tuple[str, ...]:
    """Language codes with a catalog, English (the source language) first."""
    found = sorted(
        p.parent.parent.name for p in CATALOGS.glob("*/LC_MESSAGES/messages.po") if p.is_file()
    )
    return (SOURCE, *[c for c in found if c != SOURCE])


@cache
def _translations(code: str) -> _gettext.NullTranslations:
    po = CATALOGS / code / "LC_MESSAGES" / "messages.po"
    if code == SOURCE or not po.is_file():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@cache
def _clock(code: str, hour: int, minute: int) -> str:
    """Babel's 24-hour clock time (kept: a week page writes thousands of them)."""
    return format_skeleton("Hm", dt.time(hour, minute), locale=_locale(code))


def negotiate(accept_language: str | None, default: str = SOURCE) -> str:
    """The best language with a catalog for an HTTP ``Accept-Language`` header (q-values
    honoured); ``default`` when none matches.
    """
    prefs: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            prefs.append((-q, i, tag.strip()))
    ordered = [t for _, _, t in sorted(prefs)]
    found = negotiate_locale(ordered, list(languages()), sep="-") if ordered else None
    if found is None:  # "es-ES" against "es": negotiate_locale also tries the language alone
        found = negotiate_locale([t.split("-")[0] for t in ordered], list(languages()))
    return found or default


def check_language(code: str) -> str:
    """``code`` if it has a catalog; :class:`~staffplan.errors.InputError` otherwise."""
    from staffplan.errors import InputError

    if code not in languages():
        raise InputError(
            "unknown language",
            column="--lang",
            expected="one of " + ", ".join(languages()),
            found=code,
            hint="a language is added by adding its catalog (docs/formats.md, Languages)",
        )
    return code


@dataclass(frozen=True)
class Lang:
    """One language: its messages and its ways of writing numbers, dates and times."""

    code: str = SOURCE

    @property
    def locale(self) -> Locale:
        return _locale(self.code)

    def gettext(self, message: str, **values: object) -> str:
        """``message`` in this language, with ``%(name)s`` placeholders filled from ``values``."""
        text = _translations(self.code).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The singular or plural form for ``n`` (``%(n)s`` is ``n``, written for the locale)."""
        text = _translations(self.code).ngettext(singular, plural, n)
        return text % {"n": self.number(n), **values}

    def number(self, x: float | None, digits: int = 0) -> str:
        """``x`` with ``digits`` decimals and the locale's separators (``–`` when unknown)."""
        if x is None or x != x:
            return "–"
        pattern = copy.copy(self.locale.decimal_formats[None])
        pattern.frac_prec = (digits, digits)
        return pattern.apply(x, self.locale)

    def percent(self, x: float | None, digits: int = 1) -> str:
        """A fraction as a percentage (0.875 -> ``87.5%`` / ``87,5 %``)."""
        if x is None or x != x:
            return "–"
        pattern = copy.copy(self.locale.percent_formats[None])
        pattern.frac_prec = (digits, digits)
        return pattern.apply(x, self.locale)

    def measure(self, value: object, unit: str) -> str:
        """A value of a ``compare`` metric written for its unit: ``fraction`` as a percentage,
        counts (``intervals``, ``agent-intervals``) whole, anything else with one decimal.
        """
        if isinstance(value, str):
            return value
        x = float("nan") if value is None else float(value)  # type: ignore[arg-type]
        if x != x:
            return "–"
        if unit == "fraction":
            return self.percent(x)
        if unit in ("intervals", "agent-intervals"):
            return self.number(x)
        return self.number(x, 1)

    def day(self, d: dt.date) -> str:
        """Weekday, day and month (``Mon, Dec 7`` / ``lun, 7 dic``)."""
        return format_skeleton("MMMEd", d, locale=self.locale)

    def weekday(self, d: dt.date) -> str:
        """The abbreviated weekday (``Mon`` / ``lun``)."""
        return format_skeleton("E", d, locale=self.locale)

    def date(self, d: dt.date) -> str:
        """A full date with weekday (``Mon, Dec 7, 2026`` / ``lun, 7 dic 2026``)."""
        return format_skeleton("yMMMEd", d, locale=self.locale)

    def clock(self, t: dt.time | dt.datetime) -> str:
        """A 24-hour clock time (``07:05`` / ``7:05``)."""
        return _clock(self.code, t.hour, t.minute)

    def moment(self, t: dt.datetime, tz: dt.tzinfo | None = None) -> str:
        """A date and 24-hour time, in ``tz`` when given (``Dec 7, 2026, 07:05``), joined the
        locale's way.
        """
        local = t.astimezone(tz) if tz else t
        date = format_skeleton("yMMMd", local, locale=self.locale)
        return self.locale.datetime_formats["medium"].format(self.clock(local), date)


ENGLISH = Lang(SOURCE)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extractors look for
    """Mark ``message`` for the catalogs where it is defined; translate it where it is shown."""
    return message


#: absence kinds (``io.team.ABSENCE_KINDS``) as people read them
KIND_TEXT: dict[str, str] = {
    "sick": N_("sick"),
    "vacation": N_("vacation"),
    "day_off": N_("day off"),
    "other": N_("other absence"),
    "training": N_("training"),
    "meeting": N_("meeting"),
}
