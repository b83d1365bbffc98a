"""Show a kit helper's code where a notebook first uses it (d2l's ``#@save`` idea): the learner sees what it does.

``show_source(sh.split_train_test)`` prints the helper's code when it is short (at most ``max_lines`` lines),
else its signature, the first paragraph of its docstring and the file and line where the code is. Only the
standard library: importing this module imports no framework.
"""
from __future__ import annotations

import inspect
from pathlib import Path

#: helpers up to this many lines (docstrings cut to their first line) are printed whole; longer ones get a
#: summary and a pointer
MAX_LINES = 40
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _where(obj) -> str:
    obj = inspect.unwrap(obj)  # a decorated helper (torch.no_grad) is found in its own file
    try:
        path = Path(inspect.getsourcefile(obj)).resolve()
        line = inspect.getsourcelines(obj)[1]
    except (TypeError, OSError):
        return ""
    try:
        path = path.relative_to(_PACKAGE_ROOT)
    except ValueError:
        pass
    return f"{path.as_posix()}, line {line}"


def short_docstrings(code: str) -> str:
    """``code`` (one function or class, as ``inspect.getsource`` gives it) with every multi-line docstring cut to
    its first line plus `` ...``, so that what is printed is mostly code (``help(name)`` shows the whole text).
    Code that does not parse is returned unchanged."""
    import ast
    import textwrap

    code = textwrap.dedent(code)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    cuts = []  # (first line, last line, replacement), 1-based
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str) and first.end_lineno > first.lineno):
                text = first.value.value.strip().splitlines()[0].strip()
                opening = lines[first.lineno - 1]
                indent = opening[:len(opening) - len(opening.lstrip())]
                cuts.append((first.lineno, first.end_lineno, f'{indent}"""{text} ..."""'))
    for start, end, replacement in sorted(cuts, reverse=True):
        lines[start - 1:end] = [replacement]
    return "\n".join(lines)


def source_text(obj, max_lines: int = MAX_LINES) -> str:
    """What :func:`show_source` prints for one object."""
    name = f"{getattr(obj, '__module__', '') or ''}.{getattr(obj, '__qualname__', '')}".strip(".")
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        return f"# a value, not code: {obj!r}"
    where = _where(obj)
    try:
        code = short_docstrings(inspect.getsource(obj))
    except (TypeError, OSError):
        code = ""
    if code and len(code.splitlines()) <= max_lines:
        return f"# {name}  ({where}; docstrings cut to their first line)\n{code.rstrip()}"
    try:
        signature = f"{obj.__name__}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        signature = obj.__name__
    doc = (inspect.getdoc(obj) or "").split("\n\n")[0]
    size = f"{len(code.splitlines())} lines, " if code else ""
    return f"# {name}  ({size}code in {where or 'the kit'})\n{signature}\n\n{doc}".rstrip()


def show_source(*objs, max_lines: int = MAX_LINES) -> None:
    """Print each helper's code (short ones) or its summary and where its code is (long ones)."""
    print("\n\n".join(source_text(obj, max_lines) for obj in objs))
