#!/usr/bin/env python3
"""Fails when modules of a crate depend on each other in a cycle.

A module is a folder or file under `src/` (`store`, `http/editor`, …). Module A depends on B
when a file of A names an item of B: `crate::b::…` (or `app::b::…` from the server), or
`super::b` / `super::super::b` from inside A. A module using its own parent's items
(`super::Item`) is how Rust children work and is not counted; a parent using its children is.
Cycles are reported among siblings (modules with the same parent) after folding every module
into its ancestor at that level. Usage: .ci/module-cycles.py [crate_src …]
"""
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super(?:::super)*)::((?:[a-z_][a-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)")
GROUP = re.compile(r"\b(crate|super(?:::super)*)::\{([^{}]*)\}")


def module_of(src: Path, file: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def modules(src: Path) -> dict:
    return {module_of(src, f): f for f in sorted(src.rglob("*.rs"))}


def resolve(known: set, here: tuple, is_mod_file: bool, anchor: str, rest: str):
    """The module a path names, or None for items of `here`'s ancestors."""
    if anchor == "crate":
        base = ()
    else:
        ups = anchor.count("super")
        # `super` in a file `a/b.rs` (module a::b) is `a`; in `a/b/mod.rs` also `a`.
        base = here[: len(here) - ups] if len(here) >= ups else None
        if base is None:
            return None
    target = base
    for name in rest.split("::"):
        if target + (name,) in known:
            target = target + (name,)
        else:
            break
    return target


def edges(src: Path) -> set:
    known = set(modules(src))
    found = set()
    for here, file in modules(src).items():
        text = re.sub(r"//[^\n]*", "", file.read_text())
        # Test modules may use anything.
        text = text.split("#[cfg(test)]\nmod tests")[0]
        is_mod = file.name in ("mod.rs", "lib.rs", "main.rs")
        refs = [(m.group(1), m.group(2)) for m in PATH.finditer(text)]
        for m in GROUP.finditer(text):
            refs += [(m.group(1), item.strip()) for item in m.group(2).split(",") if item.strip()]
        for anchor, rest in refs:
            target = resolve(known, here, is_mod, anchor, rest)
            if target is None or target == here:
                continue
            # A module using its ancestors' own items is not a dependency between siblings.
            if here[: len(target)] == target:
                continue
            found.add((here, target))
    return found


def cycles(graph: dict) -> list:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main(srcs):
    failed = False
    for src in map(Path, srcs):
        found = edges(src)
        parents = {m[:-1] for m in modules(src)} | {()}
        checked = 0
        for parent in sorted(parents):
            graph = {}
            for a, b in found:
                # Fold both ends into the children of `parent` they belong to.
                if a[: len(parent)] != parent or b[: len(parent)] != parent:
                    continue
                if len(a) <= len(parent) or len(b) <= len(parent):
                    continue
                x, y = a[: len(parent) + 1], b[: len(parent) + 1]
                if x != y:
                    graph.setdefault(x, set()).add(y)
            checked += 1
            for cycle in cycles(graph):
                failed = True
                names = " ↔ ".join("::".join(m) for m in cycle)
                print(f"{src}: module cycle: {names}")
                for a, b in sorted(found):
                    if a[: len(parent) + 1] in cycle and b[: len(parent) + 1] in cycle and a[: len(parent) + 1] != b[: len(parent) + 1]:
                        print(f"    {'::'.join(a)} uses {'::'.join(b)}")
        print(f"{src}: {len(modules(src))} modules, {len(found)} dependencies, {checked} levels checked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["app/src", "server/src"]))
