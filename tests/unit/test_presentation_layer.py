"""Presentation stays in one layer: services return data, keyboards and callback actions
have one home each, and idempotency keys are built only in bot/domain/keys.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "bot" / "services").glob("*.py"))
# Handlers and everything under bot/ that talks to Telegram (the simulator aside).
PRESENTERS = sorted((ROOT / "handlers").glob("*.py")) + sorted(
    p for p in (ROOT / "bot").rglob("*.py") if "sandbox" not in p.parts
)
# Ledgers are Chinese official documents, drawn where they are exported.
CHINESE_DOCUMENTS = {"exports.py"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SERVICES, ids=_name)
def test_services_neither_escape_html_nor_write_chinese_text(path: Path) -> None:
    tree = _tree(path)
    imports = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "html" not in imports
    if path.name in CHINESE_DOCUMENTS:
        return
    docstrings = _docstrings(tree)
    chinese = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and HAN.search(node.value)
    ]
    assert chinese == [], f"Chinese text at lines {chinese}: it belongs in a catalog"


@pytest.mark.parametrize("path", SERVICES, ids=_name)
def test_services_build_no_idempotency_key_by_hand(path: Path) -> None:
    hand_built = [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and (
            any(
                k.arg == "dedupe_key" and isinstance(k.value, ast.JoinedStr) for k in node.keywords
            )
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr in ("claim", "exists", "create_ticket")
                and any(isinstance(a, ast.JoinedStr) for a in node.args)
            )
        )
    ]
    assert hand_built == [], f"keys built at lines {hand_built}: use bot.domain.keys"


@pytest.mark.parametrize("path", PRESENTERS, ids=_name)
def test_no_keyboard_goes_through_de_json(path: Path) -> None:
    calls = [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "de_json"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "InlineKeyboardMarkup"
    ]
    assert calls == [], f"de_json at lines {calls}: use bot.keyboards"


@pytest.mark.parametrize("path", PRESENTERS, ids=_name)
def test_no_callback_data_is_parsed_by_hand(path: Path) -> None:
    payload = re.compile(r"^[a-z]{2}\d:")
    hand_parsed = [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("startswith", "split", "partition")
        and any(
            isinstance(a, ast.Constant) and isinstance(a.value, str) and payload.match(a.value)
            for a in node.args
        )
    ]
    assert hand_parsed == [], f"callback data parsed at lines {hand_parsed}: use bot.callbacks"
