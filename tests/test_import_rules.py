"""The import rules of pygbs and encoders (docs/code-map.md, "Import rules").

A small AST check of every module under ``pygbs/`` and ``encoders/`` (nothing is
imported): the first-party imports of each module, at module level (code under
``if TYPE_CHECKING:`` excluded) and inside functions, checked against four rules:

1. no import cycle between modules, not even one closed by an import inside a function;
2. no import running back up the layers (:data:`LAYERS`), at module level or in a function;
3. no private name (``_x``) imported from another module, and a private module
   (``pygbs._kernels``, ``pygbs.io._table``) imported only inside its own package;
4. encoders imports only public pygbs names.

and one budget: a first-party import inside a function must spare its module a heavy or
optional third-party package (:data:`HEAVY`: numpy, pandas, numba, matplotlib, torch,
dask, ...) that a module-level import would load; every other one is at module level.

Run ``python tests/test_import_rules.py`` to print every finding.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pygbs", "encoders")

#: The layers, lowest first: a module may import from its own layer and the ones below.
#: Each entry is a list of module patterns (fnmatch on the dotted name); the first layer
#: that matches a module is its layer. Mirrored in docs/code-map.md.
LAYERS: list[tuple[str, list[str]]] = [
    # pygbs: lazy, imports nothing; hints: reads the running command's options
    ("base", ["pygbs", "pygbs.errors", "pygbs.cancel", "pygbs.hints"]),
    ("kernels", ["pygbs._kernels", "pygbs._kernels.*"]),
    ("geo", ["pygbs.geo", "pygbs.geo.*"]),
    ("data", ["pygbs.coding", "pygbs.predictions", "pygbs.regression", "pygbs.duplicates"]),
    ("stats", ["pygbs.stats", "pygbs.stats.*", "pygbs._names", "pygbs.tables"]),
    ("inference", ["pygbs.inference", "pygbs.inference.*"]),
    ("engine", ["pygbs.engine", "pygbs.engine.*"]),
    (
        "io",
        [
            "pygbs.io",
            "pygbs.io._table",
            "pygbs.io.sources",
            "pygbs.io.torchspatial",
            "pygbs.io.predictions",
            "pygbs.datasets",
            "pygbs.datasets.*",
            "pygbs.io.atomic",
            "pygbs.countries",
            "pygbs.partitions",
        ],
    ),
    ("plot", ["pygbs.plot", "pygbs.plot.*"]),
    ("results", ["pygbs.results", "pygbs.results.*", "pygbs.io.store"]),
    (
        "api",
        [
            "pygbs.api",
            "pygbs.comparing",
            "pygbs.scale_profile",
            "pygbs.regional",
            "pygbs.by_dataset",
            "pygbs.testing",
            "pygbs.testing.*",
        ],
    ),
    ("cli", ["pygbs.cli", "pygbs.cli.*", "pygbs.console"]),
    ("encoders", ["encoders", "encoders.*"]),
]

#: Third-party packages that make an import slow, or that are optional (the extras): a
#: first-party import inside a function must spare its module one of these (as in
#: tests/pygbs/test_imports.py).
HEAVY = frozenset(
    {
        "numpy", "pandas", "pyarrow", "scipy", "numba", "sklearn", "matplotlib", "geopandas",
        "shapely", "pyproj", "esda", "libpysal", "torch", "lightning", "distributed", "dask",
        "healpy", "tqdm",
    }
)  # fmt: skip


#: The installed commands' entry points: they import the command line inside a function on
#: purpose, after setting the handler that turns a Ctrl-C during those imports into one line.
ENTRY_POINTS = frozenset({"pygbs.console", "encoders.console"})


@dataclass(frozen=True)
class Import:
    """One first-party import of a module."""

    importer: str
    module: str  # the module imported (a package's ``__init__`` counts as the package)
    name: str | None  # the name taken from it (``from module import name``), if any
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Dotted name -> source file of every module of the two packages."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                yield from _walk(sub, in_function)
            continue
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        yield from _walk(child, inner)


def imports(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """The first-party imports of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node, in_function in _walk(tree, False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    out.append(Import(name, alias.name, None, node.lineno, in_function))
            continue
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        if source.split(".")[0] not in PACKAGES:
            continue
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if sub in known:  # ``from package import module``
                out.append(Import(name, sub, None, node.lineno, in_function))
            else:
                out.append(Import(name, source, alias.name, node.lineno, in_function))
    return out


#: Heavy imports the AST cannot see: ``pygbs._kernels`` imports every kernel module (and so
#: numba) through :mod:`importlib` when it is imported.
DYNAMIC = {"pygbs._kernels": {"numba", "numpy"}}


def third_party(path: Path) -> set[str]:
    """Top-level names of the third-party packages a module imports at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = set()
    for node, in_function in _walk(tree, False):
        if in_function:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out - set(PACKAGES)


def heavy_closure(found: list[Import]) -> dict[str, frozenset[str]]:
    """Per module: the :data:`HEAVY` packages that importing it loads (module level)."""
    known = modules()
    direct = {
        name: (third_party(path) | DYNAMIC.get(name, set())) & HEAVY for name, path in known.items()
    }
    edges: dict[str, set[str]] = {name: set() for name in known}
    for imp in found:
        if not imp.in_function and imp.module in known:
            edges[imp.importer].add(imp.module)
    for name in known:  # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = name.split(".")
        edges[name].update(".".join(parts[:i]) for i in range(1, len(parts)))
    out: dict[str, frozenset[str]] = {}
    for name in known:
        seen, todo, heavy = {name}, [name], set()
        while todo:
            m = todo.pop()
            heavy |= direct.get(m, set())
            for n in edges.get(m, ()):
                if n not in seen and n in known:
                    seen.add(n)
                    todo.append(n)
        out[name] = frozenset(heavy)
    return out


def all_imports() -> list[Import]:
    """Every first-party import of every module."""
    known = modules()
    return [imp for name, path in known.items() for imp in imports(name, path, known)]


def layer_of(module: str) -> int:
    """The position of a module's layer in :data:`LAYERS`."""
    for i, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return i
    raise LookupError(f"{module} is in no layer of LAYERS (tests/test_import_rules.py)")


def _private_parts(module: str) -> list[int]:
    return [i for i, part in enumerate(module.split(".")) if part.startswith("_")]


def _where(imp: Import) -> str:
    what = imp.module if imp.name is None else f"{imp.module}.{imp.name}"
    kind = "in a function" if imp.in_function else "at module level"
    return f"{imp.importer} (line {imp.line}) imports {what} {kind}"


def cycles(found: list[Import]) -> list[list[str]]:
    """Import cycles (strongly connected components), through imports inside functions too.

    A cycle closed by an import inside a function is a cycle all the same: it only moves
    the failure from import time to call time.
    """
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.module != imp.importer and not _is_parent_package(imp.importer, imp.module):
            graph.setdefault(imp.importer, set()).add(imp.module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_parent_package(importer: str, module: str) -> bool:
    """A package's ``__init__`` importing its own submodules (or a module its package)."""
    return module.startswith(importer + ".") or importer.startswith(module + ".")


def upward(found: list[Import]) -> list[str]:
    """Imports from a higher layer than the importer's."""
    out = []
    for imp in found:
        if _is_parent_package(imp.importer, imp.module):
            continue
        if layer_of(imp.module) > layer_of(imp.importer):
            out.append(f"{_where(imp)}: layer {LAYERS[layer_of(imp.module)][0]} is above "
                       f"{LAYERS[layer_of(imp.importer)][0]}")  # fmt: skip
    return out


def private(found: list[Import]) -> list[str]:
    """Private names taken across modules, private modules used outside their package."""
    out = []
    for imp in found:
        dunder = (imp.name or "").startswith("__")  # __version__ and the like are public
        if (imp.name or "").startswith("_") and not dunder and imp.module != imp.importer:
            out.append(f"{_where(imp)}: a private name of another module")
        for i in _private_parts(imp.module):
            owner = ".".join(imp.module.split(".")[:i])  # the package that holds it
            if not (imp.importer == owner or imp.importer.startswith(owner + ".")):
                out.append(f"{_where(imp)}: a private module outside {owner}")
    return out


def encoders_private(found: list[Import]) -> list[str]:
    """encoders importing a private pygbs name or module."""
    return [
        f"{_where(imp)}: encoders uses only public pygbs names"
        for imp in found
        if imp.importer.split(".")[0] == "encoders"
        and imp.module.split(".")[0] == "pygbs"
        and (_private_parts(imp.module) or (imp.name or "").startswith("_"))
    ]


def needless_deferred(found: list[Import]) -> list[str]:
    """First-party imports inside functions that spare their module nothing heavy.

    In pygbs: what the imported module loads beyond what the importer loads anyway. In
    encoders, whose package loads torch only where it is installed (``encoders --help``
    works without it), the AST cannot tell what a module loads: there only imports of a
    module that loads nothing heavy at all are flagged.
    """
    heavy = heavy_closure(found)
    out = []
    for imp in found:
        if not imp.in_function or imp.module not in heavy or imp.importer in ENTRY_POINTS:
            continue
        if imp.module in PACKAGES and imp.name is not None:
            continue  # a public name of the lazy package root: it loads its module on use
        if imp.importer.split(".")[0] == "encoders":
            needless = not heavy[imp.module]
        else:
            needless = not heavy[imp.module] - heavy[imp.importer]
        if needless:
            out.append(f"{_where(imp)}: spares nothing heavy; import it at module level")
    return out


# --------------------------------------------------------------------------- the rules


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_no_import_cycles():
    assert cycles(all_imports()) == []


def test_nothing_is_imported_back_up_the_layers():
    assert upward(all_imports()) == []


def test_no_private_names_across_modules():
    assert private(all_imports()) == []


def test_encoders_imports_only_public_pygbs_names():
    assert encoders_private(all_imports()) == []


def test_imports_inside_functions_keep_start_up_light():
    assert needless_deferred(all_imports()) == []


# --------------------------------------------------------------------------- the checker itself


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    out = {}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out[rel] = path
    return out


def test_the_checker_finds_what_it_should(tmp_path, monkeypatch):
    # a made-up tree with one of each fault; the checker must name each
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    _tree(
        tmp_path,
        {
            "pygbs/__init__.py": "",
            "pygbs/errors.py": "from pygbs.geo.a import x\n",  # up a layer, and a cycle
            "pygbs/geo/__init__.py": "",
            "pygbs/geo/a.py": "from pygbs.errors import E\nfrom pygbs.stats.s import _hidden\n",
            "pygbs/stats/__init__.py": "",
            "pygbs/stats/s.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from pygbs.cli.c import C\n"  # type checking only: not an import
                "def f():\n    from pygbs.geo import a\n"  # needless deferral
            ),
            "pygbs/io/__init__.py": "",
            "pygbs/io/_table.py": "",
            "pygbs/cli/__init__.py": "",
            "pygbs/cli/c.py": "from pygbs.io import _table\n",  # a private module elsewhere
            "encoders/__init__.py": "",
            "encoders/e.py": "from pygbs.io._table import load\n",
        },
    )
    found = all_imports()
    # errors <-> geo.a at module level, and stats.s joins through its import in a function
    assert cycles(found) == [["pygbs.errors", "pygbs.geo.a", "pygbs.stats.s"]]
    assert sorted(u.split(" (")[0] for u in upward(found)) == ["pygbs.errors", "pygbs.geo.a"]
    assert sorted(p.split(" (")[0] for p in private(found)) == [
        "encoders.e",
        "pygbs.cli.c",
        "pygbs.geo.a",
    ]
    assert [p.split(" (")[0] for p in encoders_private(found)] == ["encoders.e"]
    assert [p.split(" (")[0] for p in needless_deferred(found)] == ["pygbs.stats.s"]


if __name__ == "__main__":  # pragma: no cover - a report for developers
    everything = all_imports()
    for title, items in (
        ("cycles", [" -> ".join(c) for c in cycles(everything)]),
        ("upward", upward(everything)),
        ("private", private(everything)),
        ("encoders private", encoders_private(everything)),
        ("needless deferred", needless_deferred(everything)),
    ):
        print(f"== {title}: {len(items)}")
        for item in items:
            print("  ", item)
    inside = [i for i in everything if i.in_function]
    print(f"== first-party imports inside functions: {len(inside)}")
