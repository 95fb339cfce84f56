"""The stub `_core.pyi` lists exactly what the extension exports: the same module names, and per
class the same public members. Parsed with `ast` from the stub file itself (not imported), so a
name added to the Rust bindings without its stub entry, or left in the stub after removal, fails."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nautilus_sor import _core

# The stub ships beside the compiled module.
STUB = Path(_core.__file__).with_name("_core.pyi")


def _public(name: str) -> bool:
    """A name the module exports: no leading underscore, or its version and build dunders."""
    return not name.startswith("_") or name == "__version__" or name.startswith("__build_")


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if _public(n)}


def _base_name(base: ast.expr) -> str | None:
    """The class a stub base names (`_VenueChoice` of `_VenueChoice[VenueQuote]`)."""
    node = base.value if isinstance(base, ast.Subscript) else base
    return node.id if isinstance(node, ast.Name) else None


def _stub_classes(tree: ast.Module) -> dict[str, set[str]]:
    """Per public class of the stub, its members: its own and those of the stub-only (private) classes it
    names as bases, which exist for typing only (the extension's class has the members itself)."""
    own: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (not item.name.startswith("_") or item.name in ("__len__", "__repr__")):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            own[node.name] = members
            bases[node.name] = [b for b in map(_base_name, node.bases) if b is not None]
    return {
        name: members.union(*(own[b] for b in bases[name] if b in own))
        for name, members in own.items()
        if _public(name)
    }


def test_stub_module_names_equal_the_extension() -> None:
    stub = _stub_module_names(_stub_tree())
    core = {n for n in dir(_core) if _public(n)}
    assert stub - core == set(), "in the stub, not in _core"
    assert core - stub == set(), "in _core, not in the stub"


def test_stub_all_lists_every_public_name() -> None:
    tree = _stub_tree()
    declared = next(
        ast.literal_eval(n.value) for n in tree.body
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
    )
    assert set(declared) == _stub_module_names(tree)


@pytest.mark.parametrize("name", sorted(_stub_classes(_stub_tree())))
def test_stub_class_members_equal_the_extension(name: str) -> None:
    stub = _stub_classes(_stub_tree())[name]
    cls = getattr(_core, name)
    # The class's own members (not object's), public ones plus the dunders a stub documents.
    core = {m for m in vars(cls) if not m.startswith("_") or m in ("__len__",)}
    stub_public = {m for m in stub if m != "__repr__"}
    assert stub_public - core == set(), f"{name}: in the stub, not in _core"
    assert core - stub_public == set(), f"{name}: in _core, not in the stub"


def test_router_defaults_match_the_constructor_signature() -> None:
    import inspect

    params = inspect.signature(_core.Router).parameters
    assert dict(_core.ROUTER_DEFAULTS) == {k: params[k].default for k in _core.ROUTER_DEFAULTS}
    with pytest.raises(TypeError):
        _core.ROUTER_DEFAULTS["volatility"] = 1.0  # type: ignore[index]
