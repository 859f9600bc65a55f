"""An embedded default dataset that every machine has: the docstrings of Python's standard library.

Real prose written by people (module, class and function docs), read with :mod:`ast` from the standard library's
source files -- nothing is imported or executed -- in a stable order, as Data-Juicer JSON Lines::

    python -m data_juicer_hpo.demo_data data/stdlib-docs.jsonl [--max-docs 8000]
    python -m data_juicer_hpo.demo_data --reference data/python-reference.jsonl

The second form writes a *reference* set of good text for the sweep objectives (``quality_score``,
``model_loss``): the Python Language Reference topics shipped with every interpreter (``pydoc_data``), in
chunks of whole paragraphs.
"""

import argparse
import ast
import json
import os
import sysconfig
from pydoc_data.topics import topics
from typing import Iterator, Optional

from data_juicer_hpo.files import write_atomic

__all__ = ["iter_stdlib_docs", "iter_reference_docs", "write_jsonl"]

_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__", "lib2to3", "ensurepip"}


def iter_stdlib_docs(root: Optional[str] = None) -> Iterator[dict]:
    """Yield ``{"text", "meta"}`` for every docstring under the standard library directory, sorted by path."""
    root = root or sysconfig.get_paths()["stdlib"]
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(directory, name)
            try:
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), filename=path)
            except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
                continue
            module = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
            for node in [tree, *ast.walk(tree)]:
                if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                doc = ast.get_docstring(node, clean=True)
                if doc and doc.strip():
                    qualname = module if isinstance(node, ast.Module) else f"{module}.{node.name}"
                    yield {"text": doc, "meta": {"source": "python-stdlib", "id": qualname}}


def iter_reference_docs(chunk: int = 1500) -> Iterator[dict]:
    """Paragraph chunks (about ``chunk`` characters) of the Python Language Reference topics, in a stable order."""

    for name in sorted(topics):
        paragraphs = [p.strip() for p in topics[name].split("\n\n") if p.strip()]
        buf, part = [], 0
        for paragraph in paragraphs:
            buf.append(paragraph)
            if sum(map(len, buf)) >= chunk:
                yield {"text": "\n\n".join(buf), "meta": {"source": "python-reference", "id": f"{name}#{part}"}}
                buf, part = [], part + 1
        if buf:
            yield {"text": "\n\n".join(buf), "meta": {"source": "python-reference", "id": f"{name}#{part}"}}


def write_jsonl(path: str, docs, max_docs: Optional[int] = None) -> int:
    """Write ``docs`` to ``path`` (JSON Lines, atomically); return how many were written."""

    lines = []
    for doc in docs:
        if max_docs is not None and len(lines) >= max_docs:
            break
        lines.append(json.dumps(doc, ensure_ascii=False))
    write_atomic(path, "\n".join(lines) + "\n")
    return len(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="output .jsonl path")
    parser.add_argument("--max-docs", type=int, default=None, help="stop after this many documents")
    parser.add_argument("--reference", action="store_true", help="write the reference set instead")
    args = parser.parse_args(argv)
    docs = iter_reference_docs() if args.reference else iter_stdlib_docs()
    count = write_jsonl(args.path, docs, args.max_docs)
    print(f"wrote {count} documents to {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
