# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The dependency rules of the design's "Layout", checked on the source with `ast`.

- The server role never decrypts a payload or a user secret: no module of
  ``offen_core.server`` imports or uses ``decrypt_asymmetric``, nor imports
  ``offen_core.operator`` or ``offen_core.metrics``.
- ``crypto``, ``ratelimit`` and ``events`` import nothing of the library but ``errors``.
- ``client``, ``operator`` and ``metrics`` never import ``server``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "offen_core"


def _modules(part: str) -> list[Path]:
    """The source files of a subpackage or module of offen_core."""
    path = PACKAGE / part
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    module = path.with_suffix(".py")
    return [module] if module.is_file() else []


def _package_of(location: Path) -> str:
    """The package that relative imports in a file at ``location`` are resolved against."""
    parts = list(location.relative_to(PACKAGE.parent).with_suffix("").parts)
    parts.pop()  # the module itself, or "__init__" of the package
    return ".".join(parts)


def _imports(source: str, location: Path) -> Iterator[tuple[str, str | None]]:
    """Yield (module, imported name or None) for every import, relative ones made absolute."""
    package = _package_of(location)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name
                yield f"{base}.{alias.name}", None


def _uses(source: str, name: str) -> bool:
    """Whether code (not comments or docstrings) refers to ``name`` as a name or attribute."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id == name:
            return True
        if isinstance(node, ast.Attribute) and node.attr == name:
            return True
    return False


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


SERVER_FILES = _modules("server")


def test_the_server_package_exists() -> None:
    assert SERVER_FILES, "offen_core/server has no modules"


@pytest.mark.parametrize("path", SERVER_FILES, ids=lambda p: p.name)
def test_the_server_never_decrypts_asymmetric_or_imports_the_operator(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for module, name in _imports(source, path):
        assert name != "decrypt_asymmetric", f"{path.name} imports decrypt_asymmetric"
        assert not module.endswith(".decrypt_asymmetric"), path.name
        assert not _within(module, "offen_core.operator"), f"{path.name} imports {module}"
        assert not _within(module, "offen_core.metrics"), f"{path.name} imports {module}"
    assert not _uses(source, "decrypt_asymmetric"), f"{path.name} uses decrypt_asymmetric"


@pytest.mark.parametrize("part", ["crypto", "ratelimit", "events"])
def test_the_primitives_import_nothing_of_the_library_but_errors(part: str) -> None:
    files = _modules(part)
    assert files
    for path in files:
        for module, _ in _imports(path.read_text(encoding="utf-8"), path):
            if not _within(module, "offen_core"):
                continue
            allowed = _within(module, "offen_core.errors") or _within(module, f"offen_core.{part}")
            assert allowed, f"{path.relative_to(PACKAGE)} imports {module}"


@pytest.mark.parametrize("part", ["client", "operator", "metrics"])
def test_other_roles_never_import_the_server(part: str) -> None:
    for path in _modules(part):
        for module, _ in _imports(path.read_text(encoding="utf-8"), path):
            assert not _within(module, "offen_core.server"), (
                f"{path.relative_to(PACKAGE)} imports {module}"
            )


def test_the_checker_sees_relative_aliased_and_attribute_uses() -> None:
    pretend = PACKAGE / "server" / "probe.py"
    source = (
        "from ..crypto import decrypt_asymmetric as unwrap\n"
        "from .. import metrics\n"
        "import offen_core.operator as op\n"
        "from offen_core import crypto\n"
        "crypto.decrypt_asymmetric(None, '')\n"
    )

    found = set(_imports(source, pretend))

    assert ("offen_core.crypto", "decrypt_asymmetric") in found
    assert ("offen_core.metrics", None) in found
    assert ("offen_core.operator", None) in found
    assert _uses(source, "decrypt_asymmetric")
    assert not _uses('"""We never call decrypt_asymmetric."""\n', "decrypt_asymmetric")
