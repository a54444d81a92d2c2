"""English and French: translations complete, compiled, listed; code labels translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication

from client.desktop import i18n
from client.desktop.models import code_text, kind_text

TS = i18n.TRANSLATIONS / "cordon_fr.ts"


@pytest.fixture
def french(qapp: Any) -> Any:
    assert i18n.install(qapp, "fr") == "fr"
    yield qapp
    i18n.install(qapp, "en")


def test_french_interface_and_code_lists(french: Any) -> None:
    assert QCoreApplication.translate("MainWindow", "Load older alerts") == (
        "Charger des alertes plus anciennes")
    assert kind_text("seizure") == "Saisie"
    assert code_text("category", "medicines") == "Médicaments illicites / falsifiés"
    assert code_text("country", "DE") == "Allemagne"
    assert code_text("unit", "tablets", capital=False) == "comprimés"


def test_english_is_the_default(qapp: Any) -> None:
    assert i18n.install(qapp, "en") == "en"
    assert kind_text("seizure") == "Seizure"
    assert code_text("country", "DE") == "Germany"


def test_every_string_is_listed_and_translated() -> None:
    """_labels.py lists every marked string and code label; the .ts translates them all."""
    labels = Path(i18n.__file__).with_name("_labels.py").read_text(encoding="utf-8")
    assert labels == i18n._labels_source(), "run: python -m client.desktop.i18n update"
    text = TS.read_text(encoding="utf-8")
    assert 'type="unfinished"' not in text
    assert "<source>IPR-infringing consumer goods</source>" in text


def test_compiled_translations_are_up_to_date(tmp_path: Path) -> None:
    lrelease = shutil.which("pyside6-lrelease") or str(
        Path(sys.executable).with_name("pyside6-lrelease"))
    if not Path(lrelease).exists():
        pytest.skip("lrelease not available")
    out = tmp_path / "fr.qm"
    subprocess.run([lrelease, "-silent", str(TS), "-qm", str(out)], check=True)
    assert out.read_bytes() == TS.with_suffix(".qm").read_bytes(), (
        "run: python -m client.desktop.i18n release")


def test_french_numbers_and_the_strings_left_in_english(french: Any, qtbot: Any) -> None:
    from client.desktop.compose import ComposeDialog
    from client.desktop.detail import render_html
    from client.desktop.fields import summarize
    from client.desktop.models import number_text, quantity_text
    from client.desktop.rows import AlertRow
    from tests.desktop import samples

    body = samples.seizure(1, qty=1200, ecommerce=False)
    body["goods"][0].update(value=48606, currency="EUR")
    row = AlertRow("stop-iii", 1, "S-1", "fr/ops", "seizure", 1, body, True,
                   summary=summarize(body))
    assert quantity_text(row) == "1\u202f200 comprimés"  # Qt's French locale, not "1,200"
    assert number_text(2.5) == "2,50"
    assert number_text(float("nan")) == "nan"  # a forged body cannot break the feed
    page = render_html(row, [])
    assert "1\u202f200" in page and ">non<" in page  # a no in the detail is translated
    assert "48\u202f606" in page  # the goods line's value too
    dialog = ComposeDialog("seizure", [("stop-iii", "STOP III")], lambda *a: 1)
    qtbot.addWidget(dialog)
    dialog.remove_goods_line()
    assert "Marchandises: obligatoire" in dialog.problems.text()  # was "goods: obligatoire"
    assert "goods" not in dialog.problems.text()
