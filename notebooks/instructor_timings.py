"""Fill the timing blocks of notebooks/INSTRUCTOR.md and INSTRUCTOR.zh-CN.md from measured runs.

    python notebooks/instructor_timings.py                       # from build/executed/SUMMARY.md (make run)
    python notebooks/instructor_timings.py --summary PATH        # another run_all.py summary
    python notebooks/instructor_timings.py --check               # exit 1 if a page is stale for that summary

Sources (both written by commands of the repo, never typed):

* ``run_all.py``'s ``SUMMARY.md`` (``make run``): per notebook, time to first output and wall time;
* ``build/colab-check/SUMMARY.md`` (``make colab-check``), if present: the Colab-like runs of 04 -> 05;
* ``benchmarks/WORKSHOP.md`` (``python scripts/workshop_timing.py``), if present: notebook 04 under ``workshop``.

The block between ``<!-- timings:start -->`` and ``<!-- timings:end -->`` gets one row per stage (PyTorch and
TensorFlow), the total per framework path, and the Colab rows. Without a summary the pages are left as they are.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"en": ROOT / "notebooks" / "INSTRUCTOR.md", "zh": ROOT / "notebooks" / "INSTRUCTOR.zh-CN.md"}
SUMMARY = ROOT / "build" / "executed" / "SUMMARY.md"
COLAB = ROOT / "build" / "colab-check" / "SUMMARY.md"
WORKSHOP = ROOT / "benchmarks" / "WORKSHOP.md"  # scripts/workshop_timing.py: notebook 04 under the workshop profile
START, END = "<!-- timings:start -->", "<!-- timings:end -->"
STAGES = ("01_data", "02_preprocess", "03_metrics", "04_train", "05_inference")
ROW = re.compile(r"^\| `(en|zh)/([0-9a-z_]+)` \| (\w+) \| ([0-9.]+|—) \| ([0-9.]+) \|", re.M)
HEADER = re.compile(r"^# Notebook run: profile `(\w+)`\n\n(\d+) notebooks, (\d+) at a time", re.M)


def read_summary(path: Path) -> tuple[str, int, dict]:
    """(profile, notebooks run side by side, {(lang, notebook): (first output s or None, wall s)}) for the
    notebooks that ran ok."""
    text = path.read_text("utf-8")
    head = HEADER.search(text)
    if not head:
        raise SystemExit(f"{path}: not a run_all.py summary (no '# Notebook run' header)")
    rows = {}
    for lang, name, status, first, wall in ROW.findall(text):
        if status == "ok":
            rows[(lang, name)] = (None if first == "—" else float(first), float(wall))
    return head.group(1), int(head.group(3)), rows


def read_colab(path: Path) -> list[tuple[str, str, float]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text("utf-8").splitlines():
        m = re.match(r"^\| ((?:en|zh)/[0-9a-z_]+) \| (\w+) \| ([0-9.]+) \|", line)
        if m:
            out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


def _cell(rows, name):
    """'first / wall' for a notebook: the slower of its two languages (same code, so close)."""
    got = [rows[(lang, name)] for lang in ("en", "zh") if (lang, name) in rows]
    if not got:
        return "—", None
    first = max((f for f, _ in got if f is not None), default=None)
    wall = max(w for _, w in got)
    return f"{'—' if first is None else f'{first:.0f}'} / {wall:.0f}", wall


def block(lang: str, profile: str, jobs: int, rows: dict, colab: list) -> str:
    zh = lang == "zh"
    head = ("| 阶段 | PyTorch：首个输出 / 总时长（秒） | TensorFlow：首个输出 / 总时长（秒） |" if zh else
            "| stage | PyTorch: first output / wall (s) | TensorFlow: first output / wall (s) |")
    lines = [head, "|---|---:|---:|"]
    totals = {"pytorch": 0.0, "tensorflow": 0.0}
    for stage in STAGES:
        cells = []
        for fw in ("pytorch", "tensorflow"):
            name = stage if stage == "01_data" else f"{stage}_{fw}"
            text, wall = _cell(rows, name)
            totals[fw] += wall or 0.0
            cells.append(text)
        lines.append(f"| `{stage}` | {cells[0]} | {cells[1]} |")
    lines.append(f"| **{'合计' if zh else 'total'}** | **{totals['pytorch'] / 60:.1f} min** | "
                 f"**{totals['tensorflow'] / 60:.1f} min** |")
    langs = sorted({lang for lang, _ in rows})
    which_zh = "取中英文两版中较慢的一次" if len(langs) == 2 else f"只运行了{'中文' if langs == ['zh'] else '英文'}版（两版代码相同）"
    which_en = "the slower of the EN and 中文 runs" if len(langs) == 2 else f"{'/'.join(langs).upper()} only (same code in both)"
    note = (f"\n来源：`notebooks/run_all.py`（`make run`，`{profile}` 预设，同时运行 {jobs} 个）生成的 `SUMMARY.md`；单位为秒，"
            f"{which_zh}，包括内核启动。合计是一个学员按顺序运行 01→05 的纯运行时间，不含阅读和练习。\n" if zh else
            f"\nSource: the `SUMMARY.md` of `notebooks/run_all.py` (`make run`; profile `{profile}`, {jobs} at a time); "
            f"seconds, {which_en}, kernel start included. The total is one learner running 01 -> 05 in order: run time "
            "only, no reading, no exercises.\n")
    out = "\n".join(lines) + "\n" + note + "\n" + ("### 3 小时工作坊（每位学员选一个框架）\n\n" if zh else
                                                "### A 3-hour workshop (one framework per learner)\n\n") + plan(lang, rows)
    if WORKSHOP.is_file():
        _, _, w = read_summary(WORKSHOP)
        pt, tf = (w.get(("en", f"04_train_{fw}"), (None, None))[1] for fw in ("pytorch", "tensorflow"))
        if pt and tf:
            out += (f"\n`workshop` 预设（预训练的 mit-b0、真实照片、256 px，2 核 CPU）下，第 04 篇实测 {pt / 60:.0f} 分钟（PyTorch）/ "
                    f"{tf / 60:.0f} 分钟（TensorFlow）（[`benchmarks/WORKSHOP.md`](../benchmarks/WORKSHOP.md)，由 "
                    "`python scripts/workshop_timing.py` 生成）：休息前先对第 04 篇点 Run All，回来时就训练完了。\n" if zh else
                    f"\nWith the `workshop` profile (pretrained mit-b0, real photos, 256 px, 2-core CPU) notebook 04 took "
                    f"{pt / 60:.0f} min (PyTorch) / {tf / 60:.0f} min (TensorFlow) ([`benchmarks/WORKSHOP.md`]"
                    "(../benchmarks/WORKSHOP.md), written by `python scripts/workshop_timing.py`): start its Run All "
                    "before the break and it has finished when the learners are back.\n")
    if colab:
        out += ("\n`make colab-check`（类 Colab 环境，安装单元格在内）：\n\n| 笔记本 | 结果 | 总时长（秒） |\n|---|---|---:|\n"
                if zh else "\n`make colab-check` (a Colab-like runtime, install cell included):\n\n"
                "| notebook | result | wall (s) |\n|---|---|---:|\n")
        out += "\n".join(f"| `{n}` | {r} | {w:.0f} |" for n, r, w in colab) + "\n"
    return out


#: the 3-hour plan: (start-end, stages run in the block, block, what learners do, checked exercises), EN and 中文
PLAN = [
    ("0:00–0:15", (), ("welcome, setup check", "开场、检查环境"),
     ("open 01 (Colab or `make lab`), Run All, see the first output", "打开第 01 篇（Colab 或 `make lab`），Run All，看到第一个输出"),
     ("—", "—")),
    ("0:15–0:40", ("01_data",), ("01 data", "01 数据"),
     ("read sections 1–8; the `seed` trap", "读第 1～8 小节；`seed` 的坑"),
     ("ex. 1 class frequencies, ex. 2 one `seed`", "练习 1 类别频次、练习 2 同一个 `seed`")),
    ("0:40–1:10", ("02_preprocess",), ("02 preprocess", "02 预处理"),
     ("label reduction, augmentation, `set_transform`", "标签缩减、数据增强、`set_transform`"),
     ("ex. 1 reduce labels by hand, ex. 2, ex. 3 random flip", "练习 1 手写标签缩减、练习 2、练习 3 随机翻转")),
    ("1:10–1:50", ("03_metrics",), ("03 metrics", "03 指标"),
     ("IoU by hand, confusion matrix, `nan` classes", "手算交并比、混淆矩阵、`nan` 类别"),
     ("ex. 1 mean IoU by hand, ex. 2, ex. 3 predict a change", "练习 1 手算 mIoU、练习 2、练习 3 预测改动")),
    ("1:50–2:00", ("04_train",), ("break (start 04's Run All first)", "休息（休息前先对第 04 篇点 Run All）"),
     ("—", "—"), ("—", "—")),
    ("2:00–2:35", (), ("04 train", "04 训练"),
     ("read while it trains; the curves", "边训练边读；看懂训练曲线"),
     ("ex. 1 steps per epoch, ex. 2 read the curves", "练习 1 每轮多少步、练习 2 读曲线")),
    ("2:35–3:00", ("05_inference",), ("05 inference, wrap-up", "05 推理、总结"),
     ("pipeline vs by hand, palette, overlay", "pipeline 与手动推理、调色板、叠加图"),
     ("ex. 1 segment by hand, ex. 2 palette, ex. 3", "练习 1 手动分割、练习 2 调色板、练习 3")),
]


def plan(lang: str, rows: dict) -> str:
    """The 3-hour plan with each block's measured run time (PyTorch / TensorFlow), from the same summary."""
    zh = lang == "zh"
    i = 1 if zh else 0
    lines = ["| 时间 | 内容 | 学员做什么 | 可自动检查的练习 | 实测运行时间 PT / TF（分钟） |" if zh else
             "| time | block | what the learners do | checked exercises | measured run time PT / TF (min) |",
             "|---|---|---|---|---:|"]
    for when, stages, what, do, exercises in PLAN:
        runs = []
        for fw in ("pytorch", "tensorflow"):
            walls = [_cell(rows, st if st == "01_data" else f"{st}_{fw}")[1] for st in stages]
            runs.append("—" if not stages or None in walls else f"{sum(walls) / 60:.1f}")
        lines.append(f"| {when} | {what[i]} | {do[i]} | {exercises[i]} | {' / '.join(runs) if stages else '—'} |")
    return "\n".join(lines) + "\n"


def fill(text: str, new: str) -> str:
    i, j = text.index(START) + len(START), text.index(END)
    return text[:i] + "\n" + new + text[j:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", type=Path, default=SUMMARY)
    ap.add_argument("--colab", type=Path, default=COLAB)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if not args.summary.is_file():
        print(f"{args.summary} does not exist: run `make run` first; the pages keep their numbers.")
        return 0
    profile, jobs, rows = read_summary(args.summary)
    colab = read_colab(args.colab)
    stale = []
    for lang, page in PAGES.items():
        text = page.read_text("utf-8")
        new = fill(text, block(lang, profile, jobs, rows, colab))
        if new != text:
            stale.append(page.name)
            if not args.check:
                page.write_text(new, "utf-8")
    if args.check and stale:
        print("stale timings in " + ", ".join(stale) + ": run python notebooks/instructor_timings.py")
        return 1
    print(("updated " + ", ".join(stale)) if stale and not args.check else "timings up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
