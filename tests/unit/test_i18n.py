"""The catalogue is complete in both languages and every key the code uses exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from app.i18n import MESSAGES, t

ROOT = Path(__file__).resolve().parents[2]
# tr("key") in components, t("key") / _text("key") on the server, key="…" on errors.
USES = re.compile(r"""\b(?:tr|t|_text)\(\s*["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_vietnamese_and_english_text() -> None:
    missing = [k for k, (vi, en) in MESSAGES.items() if not vi.strip() or not en.strip()]
    assert not missing, f"keys missing a language: {missing}"


def test_both_languages_use_the_same_placeholders() -> None:
    mismatched = [k for k, (vi, en) in MESSAGES.items() if _placeholders(vi) != _placeholders(en)]
    assert not mismatched, mismatched


def test_every_key_used_in_the_code_is_in_the_catalogue() -> None:
    used: dict[str, str] = {}
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("models/**/*.py")]:
        for key in USES.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, str(path.relative_to(ROOT)))
    assert used, "the scan found no keys at all"
    unknown = {k: where for k, where in used.items() if k not in MESSAGES}
    assert not unknown, f"keys used but not in the catalogue: {unknown}"


def _error_classes() -> set[str]:
    import importlib
    import pkgutil

    import app.services as services
    from app.services.errors import DomainError

    for info in pkgutil.iter_modules(services.__path__):
        importlib.import_module(f"app.services.{info.name}")
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _strings(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_every_message_key_a_service_raises_is_in_the_catalogue() -> None:
    """Keys passed to DomainError subclasses, or put in a field-errors dict, must exist."""
    error_classes = _error_classes()
    keyish = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    raised: dict[str, str] = {}
    for path in ROOT.glob("app/services/**/*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            found: list[str] = []
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in error_classes:
                    for arg in [
                        *node.args,
                        *(kw.value for kw in node.keywords if kw.arg in (None, "key", "fields")),
                    ]:
                        found.extend(_strings(arg))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in ("errors", "fields")
                    ):
                        found.append(str(node.value.value))
            for key in found:
                if keyish.match(key):
                    raised.setdefault(key, path.name)
    assert len(raised) > 10, "the scan found too few keys: is it still looking in the right place?"
    unknown = {k: where for k, where in raised.items() if k not in MESSAGES}
    assert not unknown, f"message keys raised by services but missing from the catalogue: {unknown}"


def test_unknown_language_falls_back_to_vietnamese_and_params_are_filled() -> None:
    assert t("signin.title", "xx") == "Đăng nhập"
    assert t("signin.title", "en") == "Sign in"
