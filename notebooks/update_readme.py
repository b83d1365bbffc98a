"""Fill the generated blocks of README.md and README.zh-CN.md (run by `make notebooks` and `make bench`).

Every figure in the READMEs comes from a file a command of the repo writes or reads:

* ``<!-- matrix:start -->``   the notebook matrix with Colab badges, from ``notebooks/generate.py``'s
  ``matrix_markdown()`` (header and badge text in Chinese in README.zh-CN.md);
* ``<!-- profiles:start -->`` the profile table, from ``seghelpers.params.PROFILES``; the `workshop` row's minutes
  from ``benchmarks/WORKSHOP.md`` (the SUMMARY.md of ``notebooks/run_all.py --profile workshop``);
* ``<!-- setup:start -->``    the set-up table per system with download sizes, from ``benchmarks/DOWNLOADS.md``
  (``python scripts/download_sizes.py``);
* ``<!-- versions:start -->`` the pinned library versions, from ``requirements.lock``;
* ``<!-- memory:start -->``   the training-step memory sentence of "Scaling up", from ``benchmarks/RESULTS.md`` (rows 7);
* ``<!-- bench:start -->``    the performance summary (6 rows), from ``benchmarks/RESULTS.md`` (``make bench``),
  which stays the full table and is linked from there.

``--check`` exits 1 if a README is stale. A row the summary needs that RESULTS.md lacks stops the script
with a message (rename the row here, or rerun ``make bench``).
"""
from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md", ROOT / "README.zh-CN.md"]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
LOCK = ROOT / "requirements.lock"
DOWNLOADS = ROOT / "benchmarks" / "DOWNLOADS.md"
WORKSHOP = ROOT / "benchmarks" / "WORKSHOP.md"


def lang_of(path: Path) -> str:
    return "zh" if path.name.endswith(".zh-CN.md") else "en"


# ----------------------------------------------------------------------------- matrix
def _generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "notebooks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = mod  # dataclasses look their module up while the file executes
    spec.loader.exec_module(mod)
    return mod


BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


@functools.lru_cache(maxsize=1)
def _matrix_markdown() -> str:
    return _generator().matrix_markdown()  # reads every stage source: seconds, so once per process


def matrix_block(lang: str) -> str:
    """matrix_markdown(), with the badge image as one reference link (it is the same image in every cell)."""
    text = _matrix_markdown()
    text = text.replace(f"]({BADGE})]", "][colab-badge]]") + f"\n[colab-badge]: {BADGE}\n"
    if lang == "zh":
        head, _, rest = text.partition("\n")
        head = (head.replace("| Stage |", "| 阶段 |").replace(" EN |", " 英文版 |").replace(" 中文 |", " 中文版 |"))
        rest = rest.replace("[![Open In Colab]", "[![在 Colab 中打开]")
        text = head + "\n" + rest
    return text


# ----------------------------------------------------------------------------- profiles
WHERE = {
    "smoke": {"en": "offline, any CPU, minutes; `make test`",
              "zh": "离线，任意 CPU，几分钟；`make test` 使用"},
    "guide": {"en": "the guide's; Hub once (or `make prefetch`); GPU advised",
              "zh": "指南原设置；需联网一次（或 `make prefetch`），建议用 GPU"},
    "full": {"en": "the whole training split; GPU", "zh": "完整训练集；需要 GPU"},
}


def workshop_minutes() -> dict[str, float]:
    """Notebook 04's wall minutes per framework ("pt", "tf") from benchmarks/WORKSHOP.md (run_all's SUMMARY.md)."""
    found = {}
    for line in WORKSHOP.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `\w+/04_train_(pytorch|tensorflow)` \| ok \| [^|]* \| ([\d.]+) \|", line)
        if m:
            found["pt" if m.group(1) == "pytorch" else "tf"] = float(m.group(2)) / 60
    if set(found) != {"pt", "tf"}:
        raise SystemExit(f"{WORKSHOP.name} has no successful 04_train rows for both frameworks; rerun the command "
                         "it names")
    return found


def workshop_where(lang: str) -> str:
    m = workshop_minutes()
    if lang == "zh":
        return (f"笔记本电脑 CPU：第 04 篇实测 {m['pt']:.0f} / {m['tf']:.0f} 分钟（PyTorch / TF，"
                "[测量条件](benchmarks/WORKSHOP.md)）；需联网一次")
    return (f"laptop CPUs: 04 took {m['pt']:.0f} / {m['tf']:.0f} min (PyTorch / TF, [how measured]"
            "(benchmarks/WORKSHOP.md)); Hub once")


def setup_block(lang: str) -> str:
    """The set-up table per system; sizes from benchmarks/DOWNLOADS.md (scripts/download_sizes.py)."""
    sizes = {}
    for line in DOWNLOADS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2].endswith("GB"):
            sizes[cells[0]] = (cells[2], cells[3])
    try:
        lx, la = sizes["Linux x86-64"], sizes["Linux aarch64"]
        mac, win = sizes["macOS 14+ (Apple silicon)"][0], sizes["Windows x64"][0]
    except KeyError as e:
        raise SystemExit(f"{DOWNLOADS.name} has no row {e}; rerun `python scripts/download_sizes.py`") from None
    zh = lang == "zh"
    rows = [("| 系统 | 命令 | 首次下载 |" if zh else "| system | command | first download |"), "|---|---|---|",
            (f"| Linux（`x86-64`、`aarch64`）| `make run` | 分别为 {lx[0]} 和 {la[0]}，其中 CUDA 库占 {lx[1]} 和 {la[1]} |"
             if zh else f"| Linux x86-64 / aarch64 | `make run` | {lx[0]} / {la[0]} (CUDA: {lx[1]} / {la[1]}) |"),
            f"| macOS 14+{'，Apple 芯片' if zh else ', Apple silicon'} | `make run` | {mac} |",
            f"| Windows x64 | `py -3.11 scripts\\setup_env.py run` | {win} |",
            ("| Intel Mac、macOS 13 及更早 | 没有 torch 2.14 / TensorFlow 2.21 的安装包，请用 Colab | — |" if zh else
             "| Intel Mac, macOS 13 or older | no torch 2.14 / TensorFlow 2.21 wheels: use Colab | — |")]
    return "\n".join(rows) + "\n"


def _params():
    """``seghelpers.params`` (its PROFILES and FRAMEWORK_VALUES), importable without PYTHONPATH: imported as part
    of the package (params.py imports seghelpers.i18n); seghelpers imports no framework."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from seghelpers import params

    return params


def _num(x) -> str:
    """2e-3, 6e-5, 50 (no zero-padded exponents)."""
    if isinstance(x, float) and 0 < abs(x) < 0.01:
        mantissa, exp = f"{x:.1e}".split("e")
        return f"{float(mantissa):g}e{int(exp)}"
    return f"{x:g}" if isinstance(x, float) else str(x)


def profiles_block(lang: str) -> str:
    params = _params()
    zh = lang == "zh"
    head = (["预设", "数据", "模型", "图像尺寸", "学习率", "批大小", "训练长度", "评估/保存间隔", "适用场景"] if zh else
            ["profile", "data", "model", "image size", "learning rate", "batch size", "length", "eval / save every",
             "where"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, p in params.PROFILES.items():
        if p["dataset"] == "synthetic":
            data = f"合成场景 `synthetic`，`{p['split']}`" if zh else f"synthetic scenes, `{p['split']}`"
        else:
            data = f"`{p['dataset']}`，`{p['split']}`" if zh else f"`{p['dataset']}` `{p['split']}`"
        model = f"`{p['checkpoint']}`"
        if p["checkpoint"].startswith("random:"):
            model += "（随机初始化）" if zh else " (random init)"
        if p["max_steps"] and p["max_steps"] > 0:
            length = f"{p['max_steps']} 步" if zh else f"{p['max_steps']} steps"
        else:
            length = f"{_num(p['num_train_epochs'])} 轮" if zh else f"{_num(p['num_train_epochs'])} epochs"
        every = f"{p['eval_steps']} / {p['save_steps']} 步" if zh else f"{p['eval_steps']} / {p['save_steps']} steps"
        label = f"`{name}`" + ("（默认）" if zh and name == "smoke" else " (default)" if name == "smoke" else "")
        where = workshop_where(lang) if name == "workshop" else WHERE.get(name, {}).get(lang, "")
        size = f"{p['image_size']}×{p['image_size']}"
        lr = _num(p["learning_rate"])
        tf_lr = params.FRAMEWORK_VALUES.get((name, "tf"), {}).get("learning_rate")
        if tf_lr is not None:  # the guide's TF schedule starts elsewhere
            lr = f"{lr}（TF 版从 {_num(tf_lr)} 开始）" if zh else f"{lr} (TF: {_num(tf_lr)})"
        lines.append("| " + " | ".join([label, data, model, size, lr, str(p["batch_size"]),
                                         length, every, where]) + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- versions
VERSION_ROWS = [  # (packages shown in one row, why: en, zh)
    (("transformers",), "the last line with the TensorFlow model classes (v5 removed TF)",
     "保留 TensorFlow 模型类的最后一个版本系列（v5 已移除 TF）"),
    (("datasets",), "newer releases need a huggingface-hub that transformers 4.x refuses",
     "更新的版本要求的 huggingface-hub 与 transformers 4.x 不兼容"),
    (("huggingface-hub",), "what this transformers accepts", "与上面的 transformers 版本匹配"),
    (("evaluate",), "the metric API the guide uses (the kit ships the metric itself)",
     "指南使用的指标接口（指标本身由套件随附，无需联网下载）"),
    (("torch", "torchvision"), "a matched PyPI pair", "PyPI 上相互匹配的一对版本"),
    (("tensorflow", "tf-keras"), "transformers' TF models are Keras 2 models (tf-keras)",
     "transformers 的 TF 模型是 Keras 2 模型，需要 tf-keras"),
]


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1).lower())] = m.group(2)
    return pins


def versions_block(lang: str) -> str:
    pins = lock_pins()
    zh = lang == "zh"
    lines = ["| 库 | 版本 | 为什么选这个版本 |" if zh else "| library | version | why this one |", "|---|---|---|"]
    for names, why_en, why_zh in VERSION_ROWS:
        missing = [n for n in names if n not in pins]
        if missing:
            raise SystemExit(f"requirements.lock pins no {missing}; update VERSION_ROWS in {Path(__file__).name}")
        lines.append(f"| {' / '.join(names)} | {' / '.join(pins[n] for n in names)} | {why_zh if zh else why_en} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- benchmark results
def results_rows(text: str) -> dict[str, list[str]]:
    """measure -> [baseline, ours, ratio, goal, how, machine] from RESULTS.md's table."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("| measure |"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) >= 4:
            rows[cells[0]] = cells[1:]
    return rows


def _find(rows: dict, pattern: str) -> tuple[str, list[str]] | None:
    for measure, cells in rows.items():
        if re.search(pattern, measure):
            return measure, cells
    return None


def _first(cell: str, unit: str) -> str:
    m = re.search(rf"(\d[\d,.]*)\s*{unit}", cell)
    if not m:
        raise ValueError(f"no figure in {unit!r} in {cell!r}")
    return m.group(1)


def _time(cell: str) -> str:
    m = re.search(r"(\d[\d,.]*)\s*(µs|ms|s|min)\b", cell)
    if not m:
        raise ValueError(f"no time in {cell!r}")
    return f"{m.group(1)} {m.group(2)}"


def _ratio(cell: str) -> str:
    if "FAILED CHECK" in cell:
        return "FAILED CHECK"
    m = re.search(r"(\d[\d.]*)x\b", cell)
    if not m:
        raise ValueError(f"no ratio in {cell!r}")
    return m.group(1) + "×"


def _rate(cell: str, lang: str) -> str:
    return _first(cell, "img/s") + (" 张/秒" if lang == "zh" else " img/s")


def _peaks(cell: str) -> str:
    m = re.search(r"(\d+)\s*->\s*(\d+)\s*MB", cell)
    if not m:
        raise ValueError(f"no peak memory in {cell!r}")
    return f"{m.group(1)} → {m.group(2)} MB"


# key, pattern for the RESULTS.md measure, label en/zh, cell formatter, meaning en/zh
SUMMARY = [
    ("inference", r"^6\. batch inference",
     "label a batch of photos (mit-b0, 512², CPU)", "批量预测一组照片（mit-b0，512²，CPU）",
     _rate,
     "`predict` vs the guide's `pipeline(...)` photo by photo; same label maps",
     "`seghelpers.pt.predict` 对比指南中逐张调用 `pipeline(...)`；两者得到的标签图相同"),
    ("train_pt", r"^8\. training throughput.*PyTorch",
     "train with the guide's recipe, PyTorch (mit-b0, 512², CPU)", "按指南的配置训练，PyTorch（mit-b0，512²，CPU）",
     _rate,
     "04's fast path (`shpt.fast_training`, fast processor); same loss every step",
     "第 04 篇的快速路径（`fast_training`、快速图像处理器）对比指南原配置；每一步的损失都相同"),
    ("train_tf", r"^8\. training throughput.*TensorFlow",
     "the same, TensorFlow", "同上，TensorFlow",
     _rate,
     "`shtf.fast_training`: true depthwise conv, folded decode head; same loss every step",
     "`shtf.fast_training`：深度卷积改用 `tf.nn.depthwise_conv2d`，并合并解码头；每一步的损失都相同"),
    ("miou", r"^1\. mean IoU vs hub",
     "mean IoU of 100 maps, 150 classes", "计算 100 张标签图的平均交并比（150 类）",
     lambda cell, lang: _time(cell),
     "one confusion matrix, not histograms per image; every key identical",
     "只统计一次混淆矩阵，而不是像 Hub 上的指标那样逐张图做直方图；所有返回值完全一致"),
    ("evaluate", r"^10\. the guide's compute_metrics",
     "the guide's `compute_metrics` as written, 3 maps of 512²", "指南原样的 `compute_metrics`，3 张 512² 标签图",
     lambda cell, lang: _time(cell),
     "`evaluate` turns every pixel into Arrow before counting (the metrics notebook times it on yours); same numbers",
     "`evaluate` 先把每个像素转成 Arrow 再统计（第 03 篇会在你的机器上实测）；结果完全相同"),
]
FIFTH_SMOKE = ("smoke", r"(?i)smoke",
               "run the whole collection (`smoke`)", "运行全部笔记本（`smoke`）",
               lambda cell, lang: _time(cell),
               "wall time of the 18 notebooks, as `make test` runs them",
               "18 个笔记本的总耗时，与 `make test` 的运行方式相同")
FIFTH_EVAL = ("eval", r"^4\. Trainer eval peak RSS",
              "peak memory of Trainer evaluation, 20 → 200 images", "`Trainer` 评估的内存峰值（20 → 200 张图）",
              lambda cell, lang: _peaks(cell),
              "ratio at 200 images: class ids kept per batch, so memory stays flat",
              "表中倍数为 200 张时之比：套件每个批次只保留类别编号，测试集再大，内存也基本不涨")


def summary_rows(results_text: str) -> list[tuple]:
    """The summary rows: (spec, measure, cells), in table order; raises SystemExit naming a missing row."""
    rows = results_rows(results_text)
    specs = list(SUMMARY) + [FIFTH_SMOKE if _find(rows, FIFTH_SMOKE[1]) else FIFTH_EVAL]
    out = []
    for spec in specs:
        found = _find(rows, spec[1])
        if not found:
            raise SystemExit(f"benchmarks/RESULTS.md has no row matching {spec[1]!r} "
                             f"(run `make bench`, or update SUMMARY in {Path(__file__).name})")
        out.append((spec, *found))
    return out


def _items(later: re.Match, lang: str) -> str:
    """RESULTS.md's later-run item numbers ("10." or "7, 10.") as "item 10" / "items 7, 10" / "7、10"."""
    numbers = [n.strip() for n in later.group(1).rstrip(".").split(",")]
    if lang == "zh":
        return "、".join(numbers)
    return ("item " if len(numbers) == 1 else "items ") + ", ".join(numbers)


def _when_where(text: str, lang: str) -> str:
    date = re.search(r"on (\d{4}-\d{2}-\d{2})", text)
    cpu = re.search(r"^- CPU: ([^,;]+), (\d+) cores?", text, re.M)
    gpu_none = re.search(r"GPU figures: not measured", text)
    date = date.group(1) if date else "?"
    later = re.search(r"^- rows (.+?) come from a later run, .*? on (\d{4}-\d{2}-\d{2})", text, re.M)
    if lang == "zh":
        s = f"{date} 用 `make bench` 测得"
        if cpu:
            s += f"，机器为 {cpu.group(1)}（{cpu.group(2)} 核 CPU）"
        s += f"（`benchmarks/RESULTS.md` 第 {_items(later, 'zh')} 项于 {later.group(2)} 重测）" if later else ""
        s += "；未测 GPU。" if gpu_none else "；GPU 结果见完整表格。"
        return s
    s = f"Measured by `make bench` on {date}"
    if cpu:
        s += f", {cpu.group(1)} CPU with {cpu.group(2)} cores"
    s += f" (`RESULTS.md` {_items(later, 'en')} on {later.group(2)})" if later else ""
    s += "; GPU not measured." if gpu_none else "; GPU rows in the full table."
    return s


def bench_block(lang: str) -> str | None:
    if not RESULTS.exists():
        return None
    text = RESULTS.read_text(encoding="utf-8")
    zh = lang == "zh"
    lines = [_when_where(text, lang), "",
             "| 测量项 | 指南原代码 | 套件 | 倍数 | 含义 |" if zh else
             "| what | the guide's code | the kit | ratio | what it means |",
             "|---|---|---|---|---|"]
    for spec, _measure, cells in summary_rows(text):
        _key, _pat, label_en, label_zh, fmt, mean_en, mean_zh = spec
        lines.append("| " + " | ".join([label_zh if zh else label_en, fmt(cells[0], lang), fmt(cells[1], lang),
                                        _ratio(cells[2]), mean_zh if zh else mean_en]) + " |")
    lines += ["", "完整表格（测量方法、目标是否达成、机器信息）见 [`benchmarks/RESULTS.md`](benchmarks/RESULTS.md)，"
                  "由 `make bench` 生成（`make bench BENCH_ARGS=--quick` 为快速版）。" if zh else
              "The full table (method, goals met or missed, machine) is "
              "[`benchmarks/RESULTS.md`](benchmarks/RESULTS.md), written by `make bench` "
              "(`make bench BENCH_ARGS=--quick` for a short run)."]
    return "\n".join(lines) + "\n"


def memory_block(lang: str) -> str | None:
    if not RESULTS.exists():
        return None
    rows = results_rows(RESULTS.read_text(encoding="utf-8"))
    mem = {}
    for measure, cells in rows.items():
        m = re.search(r"training step tensor memory.*batch (\d+)", measure)
        if m:
            mem[int(m.group(1))] = cells
    if not mem:
        raise SystemExit("benchmarks/RESULTS.md has no row 7 (training step tensor memory); run `make bench`")
    how = next(iter(mem.values()))[4]
    states = re.search(r"model states (\d[\d.]* [MG]iB)", how)
    per_image = re.search(r"\((\d[\d.]* [MG]iB) per image\)", how)
    parts = [f"{cells[1]}" for _, cells in sorted(mem.items())]
    batches = sorted(mem)
    if lang == "zh":
        s = ("单卡显存峰值尚未在 GPU 上实测。`make bench` 在 CPU 上测出了它的下限，即 mit-b0 在 512² 下训练一步必须保存的张量："
             f"模型状态（权重、梯度、AdamW 动量）{states.group(1) if states else '?'}，"
             f"每张图约 {per_image.group(1) if per_image else '?'} 的激活值；"
             + "，".join(f"批大小 {b} 时每卡 {p}" for b, p in zip(batches, parts))
             + "。CUDA 上下文等开销另算。")
    else:
        s = ("Peak memory per GPU is not measured on a GPU yet; its lower bound, the tensors one mit-b0 step at 512² "
             "holds, is (`make bench`, on the CPU): model states (weights, gradients, AdamW moments) "
             f"{states.group(1) if states else '?'} plus about {per_image.group(1) if per_image else '?'} of "
             "activations per image, i.e. "
             + ", ".join(f"{p} per GPU at batch {b}" for b, p in zip(batches, parts))
             + ", plus the CUDA context.")
    return s + "\n"


# ----------------------------------------------------------------------------- filling
def fill(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    lang = lang_of(path)
    blocks = {"matrix": matrix_block, "profiles": profiles_block, "setup": setup_block, "versions": versions_block,
              "memory": memory_block, "bench": bench_block}
    for name, make in blocks.items():
        if f"<!-- {name}:start -->" in text:
            body = make(lang)
            if body is not None:
                text = fill(text, name, body)
    return text


def main(argv=None) -> int:
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for path in READMES:
        if not path.exists():
            continue
        new = render(path)
        if new != path.read_text(encoding="utf-8"):
            stale.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print("stale generated blocks in " + ", ".join(stale) + ": run `python notebooks/update_readme.py`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
