"""Interface languages: Qt translations (``translations/cordon_<lang>.qm``) and Qt's own.

Strings are marked in the code with ``QCoreApplication.translate(context, text)``
or a module's ``_tr(text)`` helper (one fixed context per module); code-list,
field and kind labels come from :mod:`client.desktop.fields` (contexts
``codes``, ``fields``, ``kinds``, ``roles``). ``update`` lists them all in the
generated module :mod:`client.desktop._labels` for ``lupdate``. To refresh after
changing strings or code lists::

    python -m client.desktop.i18n update    # regenerate _labels.py, run lupdate
    (translate the new entries of translations/cordon_fr.ts, e.g. in Qt Linguist)
    python -m client.desktop.i18n release   # lrelease: .ts -> .qm
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

__all__ = ["LANGUAGES", "TRANSLATIONS", "install", "language_for"]

LANGUAGES = ("en", "fr")
TRANSLATIONS = Path(__file__).with_name("translations")
_HERE = Path(__file__).parent
_installed: list[QTranslator] = []


def language_for(choice: str) -> str:
    """``choice`` if it is a supported language, else the system's (English by default)."""
    if choice in LANGUAGES:
        return choice
    system = QLocale.system().name()[:2]
    return system if system in LANGUAGES else "en"


def install(app: QCoreApplication, choice: str = "") -> str:
    """Install the translators of a language (replacing any installed before); returns it."""
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    lang = language_for(choice)
    # Numbers and dates in the interface language's format (QLocale() everywhere).
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France) if lang == "fr"
                       else QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    if lang == "en":
        return lang
    qt = QTranslator(app)
    if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    own = QTranslator(app)
    if own.load(str(TRANSLATIONS / f"cordon_{lang}.qm")):
        app.installTranslator(own)
        _installed.append(own)
    return lang


# --- maintenance (not used at run time) ---------------------------------------------------
def _tr_context(tree: ast.Module) -> str | None:
    """The fixed context of a module's ``_tr(text)`` helper, if it has one."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "_tr":
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "translate" and call.args
                        and isinstance(call.args[0], ast.Constant)):
                    return str(call.args[0].value)
    return None


def _source_strings() -> list[tuple[str, str]]:
    """``(context, text)`` of every ``_tr(...)``/``translate(...)`` call with literals."""
    found: list[tuple[str, str]] = []
    for path in sorted(_HERE.glob("*.py")):
        if path.name == "_labels.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        context = _tr_context(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            literals = [a.value for a in node.args if isinstance(a, ast.Constant)
                        and isinstance(a.value, str)]
            if name in ("_tr", "translate") and len(literals) == 2 == len(node.args):
                found.append((literals[0], literals[1]))
            elif name == "_tr" and context and len(literals) == 1 == len(node.args):
                found.append((context, literals[0]))
    return found


def _labels_source() -> str:
    from client.desktop import fields

    entries: list[tuple[str, str]] = []
    for name in fields.CODE_LISTS:
        if name == "currency":  # ISO 4217 codes are shown as codes
            continue
        entries += [("codes", label) for _, label in fields.code_list(name)]
    for kind in fields.KIND_LABELS:
        try:
            form = fields.form_for(kind)
        except KeyError:
            continue
        entries += [("fields", f.label) for f in (*form.fields, *form.goods)]
    entries += [("kinds", label) for label in fields.KIND_LABELS.values()]
    entries += [("roles", role) for role in ("reader", "contributor", "coordinator")]
    from client.desktop.models import COLUMNS

    entries += [("FeedModel", header) for _, header in COLUMNS]
    entries += [("FeedModel", "yes"), ("FeedModel", "no")]
    entries += [("ComposeDialog", m) for m in ("required", "must not be empty",
                                               "unknown field")]  # frequent schema messages
    entries += _source_strings()
    lines = [
        '"""Generated by ``python -m client.desktop.i18n update``: labels for lupdate."""',
        "# ruff: noqa: E501",
        "",
        "from PySide6.QtCore import QT_TRANSLATE_NOOP",
        "",
        "LABELS = (",
    ]
    for context, text in dict.fromkeys(entries):
        lines.append(f"    QT_TRANSLATE_NOOP({context!r}, {text!r}),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def _tool(name: str) -> str:
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if found is None:
        candidate = Path(sys.executable).with_name(f"pyside6-{name}")
        if not candidate.exists():
            raise SystemExit(f"{name} not found (it comes with PySide6)")
        found = str(candidate)
    return found


def update() -> None:
    (_HERE / "_labels.py").write_text(_labels_source(), encoding="utf-8")
    sources = [str(_HERE / "_labels.py")]
    for lang in LANGUAGES[1:]:
        ts = TRANSLATIONS / f"cordon_{lang}.ts"
        subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [_tool("lupdate"), "-no-obsolete", "-locations", "none", *sources,
             "-ts", str(ts)], check=True)


def release() -> None:
    for lang in LANGUAGES[1:]:
        ts = TRANSLATIONS / f"cordon_{lang}.ts"
        subprocess.run(  # noqa: S603
            [_tool("lrelease"), str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True)


if __name__ == "__main__":  # pragma: no cover
    {"update": update, "release": release}[sys.argv[1]]()
