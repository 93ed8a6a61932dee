"""The package's shape: short files, no import cycles, and imports that only point down the layers."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The brushwork modules `path` imports when it is imported (module level, not the lazy
    imports inside functions, not TYPE_CHECKING blocks)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brushwork"):
            for alias in node.names:  # `from brushwork.cli import commands` imports brushwork.cli.commands
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("brushwork"))
    return found & modules


def test_no_source_file_is_over_400_lines():
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_no_import_cycles():
    paths = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {name: _imports(path, set(paths)) - {name} for name, path in paths.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            assert state.get(other) != 1, " -> ".join(trail[trail.index(other):] + [name, other]) if other in trail else other
            if other not in state:
                visit(other, trail + [name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


# Each package may import its own modules and those of the packages after it; "core" is every
# module outside these packages (images, files, errors, sheets, migrations, styles, ...).
# brushwork/__init__.py (the lazy public API) and __main__.py (the entry point) stand above all.
LAYERS = ("cli", "batch", "web", "evaluation", "training", "perceptual", "inference", "models", "core")


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "core"


def _all_imports(path: Path) -> set[str]:
    """Every brushwork module `path` names in an import, lazy ones inside functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brushwork."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("brushwork."))
    return found


def test_imports_only_point_down_the_layers():
    upward = []
    for path in SRC.rglob("*.py"):
        module = _module(path)
        if module in ("brushwork", "brushwork.__main__"):
            continue
        rank = LAYERS.index(_layer(module))
        upward += [f"{module} -> {name}" for name in sorted(_all_imports(path)) if LAYERS.index(_layer(name)) < rank]
    assert not upward, upward


def test_the_layer_check_catches_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from brushwork.training.trainer import Trainer\n")
    assert _all_imports(module) == {"brushwork.training.trainer"}
    assert LAYERS.index(_layer("brushwork.training.trainer")) < LAYERS.index(_layer("brushwork.perceptual.objective"))
