"""Exercises a learner can check: ``check()``, ``hint()`` and ``solution()`` for each one, in English or Chinese.

Each stage has a module (``seghelpers.exercises.stage03``, ...) holding its :class:`Exercise` objects. In a
notebook::

    from seghelpers.exercises import stage03 as ex

    def my_mean_iou(prediction, reference, num_labels, ignore_index=255):
        return ...                                            # the scaffold: the learner replaces `...`

    ex.mean_iou_by_hand.check(my_mean_iou, prediction, reference)   # then .hint() / .solution()

A check recomputes the truth from what it is given (the learner's function run on test cases and on the
notebook's own data, or the notebook's live objects), so it stays right when the data change. It prints one
of three answers and never raises, so Run All, papermill and nbval run a notebook whose exercises are
untouched:

* right: ``✅`` and one sentence saying why;
* wrong: ``❌`` and what is wrong, concretely, then the hint;
* not answered (``...`` still there): ``✏️`` and a one-line nudge.

Messages follow :func:`seghelpers.i18n.language` (the notebook's setup cell sets it). Framework-free: a
check that needs PyTorch or TensorFlow imports ``seghelpers.pt`` / ``seghelpers.tf`` inside the check.
"""
from __future__ import annotations

import textwrap
import traceback

from ..i18n import language, tr

RIGHT, WRONG, UNANSWERED = "✅", "❌", "✏️"


class Wrong(Exception):
    """Raised by a check function: the answer is wrong; ``en`` / ``zh`` say what is wrong."""

    def __init__(self, en: str, zh: str):
        super().__init__(en)
        self.en, self.zh = en, zh


class Unanswered(Exception):
    """The learner's answer (or what their function returned) is still ``...``."""


def given(value):
    """``value``, unless it is still the scaffold's ``...`` (then :class:`Unanswered`)."""
    if value is Ellipsis:
        raise Unanswered
    return value


def call(fn, *args, what_en: str = "your function", what_zh: str = "你的函数"):
    """Run the learner's ``fn(*args)``: ``...`` returned -> :class:`Unanswered`; an exception -> :class:`Wrong`
    naming it (the learner sees their bug, not a traceback from the checker)."""
    given(fn)
    if not callable(fn):
        raise Wrong(f"{what_en} should be a function, got {type(fn).__name__}",
                    f"{what_zh}应该是一个函数，现在是 {type(fn).__name__}")
    try:
        out = fn(*args)
    except Unanswered:
        raise
    except Exception as e:  # noqa: BLE001 - any bug of the learner's is reported, not raised
        last = traceback.extract_tb(e.__traceback__)[-1]
        where = f" (line {last.lineno}: {last.line})" if last.line else ""
        raise Wrong(f"{what_en} raised {type(e).__name__}: {e}{where}",
                    f"{what_zh}抛出了 {type(e).__name__}：{e}{where}") from None
    return given(out)


class Exercise:
    """One checkable exercise.

    ``checker(*args)`` returns the *why* of a right answer as ``(en, zh)``, raises :class:`Wrong` for a wrong
    one and :class:`Unanswered` while the scaffold is untouched. ``solution`` is ``(code, why_en, why_zh)``:
    code that runs in the notebook (the tests run it there) and two or three sentences of reasoning.
    """

    def __init__(self, number: int, checker, hint: tuple[str, str], solution: tuple[str, str, str]):
        self.number = number
        self._checker = checker
        self._hint = hint
        self.solution_code, self._why_en, self._why_zh = solution
        self.solution_code = textwrap.dedent(self.solution_code).strip("\n")
        self.last = None  #: "right", "wrong" or "unanswered": the verdict of the last check()

    def _label(self) -> str:
        return tr(f"Exercise {self.number}", f"练习 {self.number}", keep_en=False)

    def check(self, *args) -> None:
        """Print whether the answer is right (and why), wrong (what, and the hint) or not given yet."""
        try:
            if any(a is Ellipsis for a in args):
                raise Unanswered
            why = self._checker(*args)
        except Unanswered:
            self.last = "unanswered"
            print(f"{UNANSWERED} " + tr(f"{self._label()}: replace the `...` above with your answer, then run this "
                                        "cell again (.hint() and .solution() help).",
                                        f"{self._label()}：把上面的 `...` 换成你的答案，再运行这个单元格"
                                        "（可以调用 .hint() 看提示，.solution() 看答案）。", keep_en=False))
            return
        except Wrong as w:
            self.last = "wrong"
            print(f"{WRONG} " + tr(f"{self._label()}, not yet: {w.en}", f"{self._label()}，还不对：{w.zh}",
                                   keep_en=False))
            self.hint()
            return
        self.last = "right"
        print(f"{RIGHT} " + tr(f"{self._label()}, right: {why[0]}", f"{self._label()}，正确：{why[1]}",
                               keep_en=False))

    def hint(self) -> None:
        """Print the hint."""
        print("💡 " + tr("Hint: " + self._hint[0], "提示：" + self._hint[1], keep_en=False))

    def solution(self) -> None:
        """Print a solution that runs in this notebook, and the reasoning behind it."""
        why = self._why_zh if language() == "zh" else self._why_en
        print(tr("Solution:", "参考答案：", keep_en=False) + "\n\n" + textwrap.indent(self.solution_code, "    ")
              + "\n\n" + why)


def _strip(text: str, prefixes) -> str:
    for p in prefixes:
        if text.startswith(p):
            return text[len(p):]
    return text


class Choice(Exercise):
    """A multiple-choice question: the learner sets a variable to one letter; every option has its feedback.

    ``options``: ``{letter: (en, zh)}``, or a function of the check's extra arguments returning ``(en, zh)``
    (feedback that quotes the learner's own numbers). ``right``: the right letter, or a function of the extra
    arguments returning it (where the truth depends on the notebook's state, e.g. a training curve); then
    ``solution_code`` must compute it.
    """

    def __init__(self, number: int, options: dict, right, hint, solution_why: tuple[str, str],
                 variable: str = "answer", solution_code: str | None = None):
        self.options = options
        self._right = right if callable(right) else (lambda *context: right)
        self._variable = variable

        def checker(answer, *context):
            letter = str(given(answer)).strip().lower().strip("().")
            if letter not in options:
                raise Wrong(f"{variable} must be one of {', '.join(map(repr, options))}, got {answer!r}",
                            f"{variable} 只能是 {', '.join(map(repr, options))} 之一，现在是 {answer!r}")
            feedback = options[letter]
            en, zh = feedback(*context) if callable(feedback) else feedback
            en, zh = _strip(en, ("Yes: ", "No: ")), _strip(zh, ("对：", "不对："))  # the verdict says it already
            if letter != self._right(*context):
                raise Wrong(f"({letter}) {en}", f"（{letter}）{zh}")
            return en, zh

        code = solution_code if solution_code is not None else f'{variable} = "{right}"'
        super().__init__(number, checker, hint, (code, *solution_why))

    def right_letter(self, *context) -> str:
        """The right letter, given the same extra arguments as :meth:`check`."""
        return self._right(*context)
