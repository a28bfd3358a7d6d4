"""Languages: negotiation, CLDR formatting (Babel), and catalogs that cover every message of the
pages and the report, so adding a language is adding a catalog.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

import staffplan.i18n as i18n
from staffplan.errors import InputError
from staffplan.i18n import Lang, check_language, languages, negotiate

SRC = Path(i18n.__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    """Every message id the source marks, found by Babel's own extractors (babel.cfg)."""
    with (Path(i18n.__file__).parent / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SRC), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_negotiate_honours_q_values_and_regions() -> None:
    assert languages()[0] == "en" and "es" in languages()
    assert negotiate("es-ES,es;q=0.9,en;q=0.8") == "es"
    assert negotiate("en-GB,en;q=0.9,es;q=0.8") == "en"
    assert negotiate("fr-FR, es;q=0.5, en;q=0.2") == "es"
    assert negotiate("es;q=0, en") == "en"
    assert negotiate("de, fr") == "en" and negotiate(None) == "en" and negotiate("*") == "en"
    assert negotiate("es;q=bad, en;q=0.1") == "en"


def test_numbers_dates_and_times_follow_cldr() -> None:
    en, es = Lang("en"), Lang("es")
    assert (en.percent(0.875), es.percent(0.875)) == ("87.5%", "87,5\xa0%")
    assert (en.number(1234.5, 1), es.number(1234.5, 1)) == ("1,234.5", "1.234,5")
    assert (en.number(None), es.percent(float("nan"))) == ("–", "–")
    monday = dt.date(2026, 12, 7)
    assert (en.day(monday), es.day(monday)) == ("Mon, Dec 7", "lun, 7 dic")
    assert (en.weekday(monday), es.weekday(monday)) == ("Mon", "lun")
    assert (en.clock(dt.time(7, 5)), es.clock(dt.time(7, 5))) == ("07:05", "7:05")
    utc = dt.datetime(2026, 12, 7, 6, 5, tzinfo=dt.UTC)
    madrid = dt.timezone(dt.timedelta(hours=1))
    assert (en.moment(utc, madrid), es.moment(utc, madrid)) == (
        "Dec 7, 2026, 07:05",
        "7 dic 2026, 7:05",
    )
    assert [es.measure(v, u) for v, u in ((0.5, "fraction"), (3.0, "intervals"), (2.25, "h"))] == [
        "50,0\xa0%",
        "3",
        "2,2",
    ]


def test_every_catalog_translates_every_message() -> None:
    wanted = source_messages()
    assert {"Week", "Sick call", "Roster (agent × day)", "paid hours", "day off"} <= wanted
    for code in languages()[1:]:
        po = i18n.CATALOGS / code / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as f:
            catalog = read_po(f, locale=code)
        have = {m.id: m for m in catalog if m.id}
        assert sorted(wanted - set(have)) == [], f"{code}: untranslated"
        assert sorted(set(have) - wanted) == [], f"{code}: messages no longer used"
        for m in have.values():
            assert m.string and not m.fuzzy, (code, m.id)
            assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel's extractor cannot see a gettext call inside an f-string: such a message would never
    reach a catalog.
    """
    hidden = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call):
                    f = inner.func
                    name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                    if name in ("_", "gettext", "ngettext", "N_"):
                        hidden.append(f"{path.relative_to(SRC)}:{inner.lineno}")
    assert hidden == []


def test_adding_a_language_is_adding_a_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(i18n.CATALOGS, tmp_path / "locale")
    catalog = Catalog(locale="fr")
    catalog.add("Week", "Semaine")
    (tmp_path / "locale" / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "locale" / "fr" / "LC_MESSAGES" / "messages.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path / "locale")
    i18n._translations.cache_clear()
    try:
        assert "fr" in languages() and negotiate("fr-CA, en;q=0.5") == "fr"
        fr = Lang(check_language("fr"))
        assert fr.gettext("Week") == "Semaine" and fr.gettext("Versions") == "Versions"
        assert fr.percent(0.875) == "87,5\xa0%" and fr.number(1234.5, 1) == "1\u202f234,5"
    finally:
        i18n._translations.cache_clear()


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unknown language.*en, es"):
        check_language("xx")
