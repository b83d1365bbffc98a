"""Show a kit helper's code where a notebook first uses it (d2l's ``#@save`` idea): the learner sees what it does.

``show_source(sh.split_train_test)`` prints the helper's code when it is short (at most ``max_lines`` lines),
else its signature, the first paragraph of its docstring and the file and line where the code is. Only the
standard library: importing this module imports no framework.
"""
from __future__ import annotations

import inspect
from pathlib import Path

#: helpers up to this many lines are printed whole; longer ones get a summary and a pointer
MAX_LINES = 30
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


def source_text(obj, max_lines: int = MAX_LINES) -> str:
    """What :func:`show_source` prints for one object."""
    name = f"{getattr(obj, '__module__', '') or ''}.{getattr(obj, '__qualname__', '')}".strip(".")
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        return f"# a value, not code: {obj!r}"
    where = _where(obj)
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError):
        code = ""
    if code and len(code.splitlines()) <= max_lines:
        return f"# {name}  ({where})\n{code.rstrip()}"
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
