"""YAML files read within limits: a recipe or sweep file past a size, or whose aliases would expand into more nodes
than any real recipe holds (a "billion laughs": nine aliases of nine aliases of ... a list), is refused in one line
before anything expands it.

PyYAML's composer keeps an alias as a reference to the anchored node, so composing such a file is cheap; the
expansion is counted on that graph with each node's size computed once. A parser that copies every alias -- as
jsonargparse does when Data-Juicer reads a recipe -- would instead spend minutes and gigabytes.
"""

import os
from typing import Optional

import yaml

from data_juicer_hpo.errors import AutoHpoError

__all__ = ["MAX_BYTES", "MAX_NODES", "yaml_problem", "load_yaml", "has_top_key", "expanded_size"]

MAX_BYTES = 8 * 2**20  # far above any recipe or sweep file (a recipe is a few KiB)
MAX_NODES = 250_000  # values after alias expansion: a 1,000-op recipe or a 100,000-value grid still fits


def yaml_problem(key: str, path: str, text: Optional[bytes] = None) -> Optional[str]:
    """One line when the YAML file at ``path`` is past :data:`MAX_BYTES` or expands past :data:`MAX_NODES` (or
    aliases itself); None otherwise, also when it is not valid YAML (its parser says so in its own words)."""
    try:
        size = os.path.getsize(path) if text is None else len(text)
    except OSError:
        return None
    if size > MAX_BYTES:
        return f"{key}: {path!r} is {size:,} bytes, more than the {MAX_BYTES:,} a recipe or sweep file may have"
    try:
        if text is None:
            with open(path, "rb") as f:
                text = f.read()
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    nodes = expanded_size(root, MAX_NODES)
    if nodes > MAX_NODES:
        how = "refers to itself through an alias" if nodes == float("inf") else f"expands to more than {MAX_NODES:,}"
        return (
            f"{key}: {path!r} {how}{' values' if nodes != float('inf') else ''} through its YAML aliases (&anchor / "
            f"*alias), more than a recipe or sweep file may hold; write the values out or use fewer aliases"
        )
    return None


def expanded_size(root, limit: int) -> float:
    """How many nodes ``root`` (a composed YAML node graph) expands to, counting each alias in full; stops at once
    past ``limit``; ``inf`` for a node that contains itself."""
    if root is None:
        return 0
    sizes, open_nodes = {}, set()
    stack = [(root, False)]
    while stack:  # iterative post-order: a deeply nested file must not exhaust Python's recursion
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                return float("inf")
            open_nodes.add(id(node))
            stack.append((node, True))
            for child in children:
                if id(child) in open_nodes:
                    return float("inf")
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        open_nodes.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[id(node)] > limit:
            return sizes[id(node)]
    return sizes[id(root)]


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(key: str, path: str):
    """``yaml.safe_load`` of the file at ``path`` once it passed :func:`yaml_problem` (an :class:`AutoHpoError`
    otherwise)."""
    with open(path, "rb") as f:
        text = f.read()
    problem = yaml_problem(key, path, text)
    if problem:
        raise AutoHpoError(problem)
    return yaml.safe_load(text)


def has_top_key(path: str, key: str) -> bool:
    """Whether the YAML mapping in ``path`` has ``key`` at its top (composed only: no alias is expanded)."""
    try:
        with open(path, "rb") as f:
            root = yaml.compose(f.read(), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return False
    if not isinstance(root, yaml.MappingNode):
        return False
    return any(isinstance(k, yaml.ScalarNode) and k.value == key for k, _ in root.value)
