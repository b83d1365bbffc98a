"""Run profiles and parameter validation for the notebooks (papermill ``-p name value``).

A notebook's ``parameters`` cell sets ``profile`` and leaves the other parameters at ``None``
("take it from the profile"); its second cell calls :func:`resolve`, which fills the gaps from the
profile, checks every value and stops with a message naming the parameter and the fix, before any
heavy work starts.

On Colab every notebook runs in its own runtime, so a model notebook 04 saved to the runtime's disk is
gone when notebook 05 starts. With Google Drive mounted (Files ▸ Mount Drive, or
``drive.mount("/content/drive")``) the default ``output_dir`` lies on Drive instead
(``MyDrive/segformer-kit/models/segformer-<profile>-<fw>``, checkpoints beside it), so 04 saves where 05
looks; see :func:`colab_drive`.
"""
from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .i18n import tr

PROFILES: dict[str, dict] = {
    # offline, minutes on 2 CPU cores: synthetic data, random-init tiny SegFormer (CI and `make run`)
    "smoke": dict(checkpoint="random:tiny", dataset="synthetic", split="train[:50]", image_size=64,
                  num_train_epochs=10, max_steps=50, learning_rate=2e-3, batch_size=4, eval_steps=5,
                  save_steps=25, seed=0),
    # exactly the guide: mit-b0 on SceneParse150 train[:50], lr 6e-5, 50 epochs, batch 2, eval/save every 20
    "guide": dict(checkpoint="nvidia/mit-b0", dataset="merve/scene_parse_150", split="train[:50]",
                  image_size=512, num_train_epochs=50, max_steps=-1, learning_rate=6e-5, batch_size=2,
                  eval_steps=20, save_steps=20, seed=0),
    # a workshop on laptop CPUs: the guide's pretrained mit-b0 fine-tuned on real SceneParse150 photos, sized so
    # that notebook 04 takes at most 10 minutes per framework on 2 cores (measured: README's profile table)
    "workshop": dict(checkpoint="nvidia/mit-b0", dataset="merve/scene_parse_150", split="train[:100]",
                     image_size=256, num_train_epochs=10, max_steps=80, learning_rate=2e-4, batch_size=4,
                     eval_steps=20, save_steps=40, seed=0),
    # the whole training split, for GPU users
    "full": dict(checkpoint="nvidia/mit-b0", dataset="merve/scene_parse_150", split="train",
                 image_size=512, num_train_epochs=20, max_steps=-1, learning_rate=6e-5, batch_size=8,
                 eval_steps=1000, save_steps=1000, seed=0),
}


#: where a framework's recipe in the guide differs from the profile's: the Chinese edition's TensorFlow schedule
#: (``PiecewiseConstantDecay``, notebook 04) starts at 1e-4, its PyTorch ``TrainingArguments`` use 6e-5
FRAMEWORK_VALUES: dict[tuple[str, str], dict] = {
    ("guide", "tf"): dict(learning_rate=1e-4),
    ("full", "tf"): dict(learning_rate=1e-4),
}


def profile_values(profile: str, framework: str | None = None) -> dict:
    """The values of ``profile`` for ``framework`` ("pt" / "tf" / None): :data:`PROFILES` with
    :data:`FRAMEWORK_VALUES` applied. Raises ``KeyError`` for an unknown profile."""
    return {**PROFILES[profile], **FRAMEWORK_VALUES.get((profile, framework), {})}


class ParameterError(ValueError):
    """A bad notebook parameter; the message names it and says what to pass instead."""


#: where ``drive.mount("/content/drive")`` puts "My Drive" on Colab (``SEGKIT_DRIVE`` overrides it)
COLAB_DRIVE = "/content/drive/MyDrive"
#: the kit's folder on Drive: trained models (and their checkpoints) of every notebook 04 run
DRIVE_MODELS = "segformer-kit/models"
MOUNT_DRIVE = 'from google.colab import drive; drive.mount("/content/drive")'


def on_colab() -> bool:
    """True in a Colab runtime (its kernel imports ``google.colab`` at start-up)."""
    return "google.colab" in sys.modules


def colab_drive() -> Path | None:
    """The mounted "My Drive" folder when running on Colab, else ``None`` (not Colab, or Drive not mounted)."""
    if not on_colab():
        return None
    root = Path(os.environ.get("SEGKIT_DRIVE") or COLAB_DRIVE)
    return root if root.is_dir() else None


def checkout_root() -> Path | None:
    """The root of the kit's checkout when ``seghelpers`` was imported from one (the folder holding
    ``notebooks/`` and ``pyproject.toml`` beside ``seghelpers/``); ``None`` when it was installed as a package
    (``pip install``, as on Colab)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "notebooks").is_dir() and (root / "pyproject.toml").is_file() else None


def models_root() -> Path:
    """The folder every notebook 04 saves to and notebook 05 loads from, whatever the kernel's working folder:

    1. on Colab with Google Drive mounted: ``MyDrive/segformer-kit/models`` (a runtime's disk dies with it);
    2. in a checkout of the kit (``make run``, ``make lab``, papermill, EN and 中文 alike): its root ``build/models``;
    3. elsewhere (the kit installed with pip): ``$SEGKIT_HOME/models``, ``SEGKIT_HOME`` defaulting to
       ``~/.cache/segkit``.
    """
    drive = colab_drive()
    if drive:
        return drive / DRIVE_MODELS
    root = checkout_root()
    if root is not None:
        return root / "build" / "models"
    return Path(os.environ.get("SEGKIT_HOME") or Path.home() / ".cache" / "segkit").expanduser() / "models"


def default_output_dir(profile: str, framework: str | None = None) -> str:
    """``<models_root()>/segformer-<profile>-<fw>``, an absolute path (see :func:`models_root`)."""
    return str(models_root() / f"segformer-{profile}-{framework or 'model'}")


def absolute_output_dir(output_dir) -> str:
    """``output_dir`` as an absolute path. A relative one is taken from the checkout's root (see
    :func:`checkout_root`), not from the kernel's working folder (``notebooks/en`` or ``notebooks/zh`` in
    JupyterLab), so ``output_dir = "build/models/mine"`` names one folder in every notebook; outside a
    checkout it is taken from the working folder."""
    path = Path(output_dir).expanduser()
    if not path.is_absolute():
        path = (checkout_root() or Path.cwd()) / path
    return str(path)


def colab_save_note(output_dir) -> str:
    """For notebook 04 after saving: on Colab, a warning when ``output_dir`` is not on Google Drive (notebook 05
    runs in another runtime and will not see it); ``""`` otherwise."""
    drive = colab_drive()
    if not on_colab() or (drive and Path(output_dir).absolute().is_relative_to(drive)):
        return ""
    return tr(f"Colab: {output_dir} lives on this runtime's disk, which notebook 05 (its own runtime) cannot see. "
              f"Mount Google Drive ({MOUNT_DRIVE}) before the parameters cell in 04 and 05 to keep the model in "
              f"MyDrive/{DRIVE_MODELS}/.",
              f"Colab：{output_dir} 在当前运行时的磁盘上，第 05 篇运行在另一个运行时里，看不到它。请在第 04 篇和第 05 篇的"
              f"参数单元格之前都先挂载 Google Drive（{MOUNT_DRIVE}），模型就会保存在 MyDrive/{DRIVE_MODELS}/ 里。")


def training_notebook(framework: str | None) -> str:
    """The file name of notebook 04 for ``framework`` ("pt" / "tf"), as it sits beside notebook 05."""
    return "04_train_tensorflow.ipynb" if framework == "tf" else "04_train_pytorch.ipynb"


def missing_model_hint(framework: str | None = None) -> str:
    """What to do when notebook 05 finds no trained model in ``output_dir`` (one sentence, no full stop),
    in the session's language (:mod:`seghelpers.i18n`); it names the notebook 04 of ``framework``."""
    nb = training_notebook(framework)
    if not on_colab():
        return tr(f"run {nb} (notebook 04, same folder as this one) with the same parameters first, then rerun "
                  "this notebook",
                  f"请先用同样的参数运行第 04 篇 {nb}（和本篇在同一个文件夹里），再重新运行本篇", keep_en=False)
    if colab_drive() is None:
        return tr("on Colab each notebook runs in its own runtime, which cannot see a model notebook 04 saved in "
                  "another: mount Google Drive in both notebooks before their parameters cell (Files ▸ Mount Drive, "
                  f"or run {MOUNT_DRIVE}), run {nb}, then this one; the model is then kept in "
                  f"MyDrive/{DRIVE_MODELS}/",
                  "在 Colab 上每个笔记本都运行在各自的运行时里，看不到第 04 篇在另一个运行时里保存的模型：请在两个笔记本的"
                  "参数单元格之前都挂载 Google Drive（左侧“文件”面板 ▸ 装载 Google 云端硬盘，或运行 "
                  f"{MOUNT_DRIVE}），先运行 {nb}，再运行本篇；模型会保存在 MyDrive/{DRIVE_MODELS}/ 里", keep_en=False)
    return tr(f"run {nb} with the same parameters and Google Drive mounted first (it saves to "
              f"MyDrive/{DRIVE_MODELS}/); Drive may take a minute to show files written from another runtime",
              f"请先在挂载了 Google Drive 的情况下用同样的参数运行 {nb}（它把模型保存到 MyDrive/{DRIVE_MODELS}/）；"
              "另一个运行时写入的文件，可能要过一分钟左右才会在 Drive 里出现", keep_en=False)


def missing_model_message(output_dir, framework: str | None, checkpoint: str, dataset_name: str) -> str:
    """Notebook 05's one warning when ``output_dir`` holds no trained model (no ``config.json``): the folder it
    searched, the notebook 04 to run (:func:`missing_model_hint`) and what the stand-in model is, in the
    session's language."""
    hint = missing_model_hint(framework)
    return tr(f"No trained model in {output_dir} (it has no config.json): {hint}. Until then the cells below use "
              f"checkpoint={checkpoint!r}, NOT fine-tuned on {dataset_name}: its predictions are untrained noise.",
              f"在 {output_dir} 里没有找到训练好的模型（该文件夹下没有 config.json）：{hint}。在此之前，下面的单元格用的是"
              f" checkpoint={checkpoint!r}，它没有在 {dataset_name} 上微调过，预测结果只是未经训练的噪声。",
              keep_en=False)


def trained_model_folder(P: "Params", framework: str, *, meta) -> tuple[str, bool]:
    """Notebook 05's model folder: notebook 04's, or an untrained stand-in, so that the guide's
    ``from_pretrained(folder)`` lines below it run unchanged either way.

    ``P``: the notebook's parameters (``output_dir``, ``checkpoint``, ``image_size``, ``seed``);
    ``framework``: ``"pt"`` or ``"tf"`` (which notebook 04 to name, which weights to write); ``meta``: the data
    set's :class:`~seghelpers.DatasetMeta`.

    Returns ``(P.output_dir, True)`` when that folder has a ``config.json`` (what ``save_pretrained`` writes),
    printing where it loads from. Otherwise displays one warning (:func:`missing_model_message`: the folder
    searched and the notebook to run) and returns ``(folder, False)``: a new temporary folder holding
    ``P.checkpoint`` with a new, seeded decode-head classifier for ``meta``'s classes, and its image processor.
    Raises :class:`~seghelpers.checkpoints.CheckpointError` when ``P.checkpoint`` cannot be found (offline, not
    cached).
    """
    import tempfile

    folder = Path(P.output_dir)
    if (folder / "config.json").is_file():
        print(tr(f"loading the model from {folder}", f"从 {folder} 加载模型", keep_en=False))
        return str(folder), True
    from .checkpoints import load_image_processor, resolve_checkpoint
    from .meta import resolve as resolve_meta

    meta = resolve_meta(meta, where="trained_model_folder")
    message = missing_model_message(P.output_dir, framework, P.checkpoint, meta.name)
    try:
        from IPython.display import display

        # one warning, bold in Jupyter, plain text in logs
        display({"text/markdown": f"**⚠️ {message}**", "text/plain": f"⚠️ {message}"}, raw=True)
    except ImportError:
        print(f"⚠️ {message}")
    stand_in = tempfile.mkdtemp(prefix="segformer-untrained-")
    checkpoint = resolve_checkpoint(P.checkpoint, P.image_size, P.seed)
    if framework == "tf":
        from .tf import load_model
    else:
        from .pt import load_model
    load_model(checkpoint, meta=meta, ignore_mismatched_sizes=True).save_pretrained(stand_in)
    load_image_processor(checkpoint, image_size=P.image_size, meta=meta).save_pretrained(stand_in)
    return stand_in, False


@dataclass(frozen=True)
class Params:
    profile: str
    checkpoint: str
    dataset: str
    split: str
    image_size: int
    num_train_epochs: float
    max_steps: int
    learning_rate: float
    batch_size: int
    eval_steps: int
    save_steps: int
    seed: int
    output_dir: str
    push_to_hub: bool
    hub_model_id: str | None
    resume: bool
    fast: bool = False  # False (every profile's default): the guide's own code paths; True: the kit's fast path
    framework: str | None = None  # "pt" / "tf": which framework's profile values (profile_values) apply

    @property
    def checkpoints_dir(self) -> str:
        """Where training checkpoints go (beside the exported model, so exporting never touches them)."""
        return f"{self.output_dir}-checkpoints"

    def as_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """Every value, one per line (the full picture; notebooks print :meth:`summary`)."""
        width = max(len(f.name) for f in fields(self))
        return "\n".join(f"{f.name:<{width}}  {getattr(self, f.name)!r}" for f in fields(self))

    def changed(self) -> tuple:
        """Names of the profile's values that were overridden (set in the parameters cell or with -p)."""
        base = profile_values(self.profile, self.framework)
        return tuple(name for name in base if getattr(self, name) != base[name])

    def summary(self) -> str:
        """One line: the profile and the values that matter, overridden ones marked with ``*``; on Colab without
        Google Drive, a second line: :func:`colab_save_note` (notebook 05 will not see a model saved there).

        ``profile smoke · random:tiny · synthetic train[:50] · 64 px · 50 steps × batch 4 · lr 0.002``
        (``预设 smoke · … · 50 步 × 批大小 4 · 学习率 0.002`` in a Chinese session)
        """
        changed = set(self.changed())

        def v(name, text=None):
            return f"{getattr(self, name) if text is None else text}{'*' if name in changed else ''}"

        def t(en, zh):
            return tr(en, zh, keep_en=False)

        epochs = f"{self.num_train_epochs:g}{'*' if changed & {'num_train_epochs', 'max_steps'} else ''}"
        length = t(f"{epochs} epochs", f"{epochs} 轮") if self.max_steps == -1 else t(f"{v('max_steps')} steps",
                                                                                    f"{v('max_steps')} 步")
        lr = v("learning_rate", f"{self.learning_rate:g}")
        parts = [t(f"profile {self.profile}", f"预设 {self.profile}"), v("checkpoint"), f"{v('dataset')} {v('split')}",
                 f"{v('image_size')} px", t(f"{length} × batch {v('batch_size')}", f"{length} × 批大小 {v('batch_size')}"),
                 t(f"lr {lr}", f"学习率 {lr}")]
        if "num_train_epochs" in changed and self.max_steps != -1:
            parts.append(t(f"{epochs} epochs (max_steps wins)", f"{epochs} 轮（以 max_steps 为准）"))
        parts += [t(f"{name.split('_')[0]} every {v(name)}", f"每 {v(name)} 步{'评估' if name == 'eval_steps' else '保存'}")
                  for name in ("eval_steps", "save_steps") if name in changed]
        parts += [t(f"seed {v('seed')}", f"种子 {v('seed')}")] if "seed" in changed else []
        parts += [t("the kit's fast path (fast = True)", "套件的快速路径（fast = True）")] if self.fast else []
        parts += [t("resume", "断点续训")] if self.resume else []
        parts += [f"push_to_hub {self.hub_model_id or ''}".rstrip()] if self.push_to_hub else []
        drive = colab_drive()
        if drive and Path(self.output_dir).absolute().is_relative_to(drive):
            parts.append(t("models on Google Drive", "模型保存在 Google Drive"))
        if changed:
            parts.append(t("* = your value", "* = 你设的值"))
        note = colab_save_note(self.output_dir)  # said before 04 trains, not after: the model would be lost
        return " · ".join(parts) + (f"\n{note}" if note else "")


def _num(name, value, kind, minimum=None, allow=()):
    if value in allow:
        return value
    if isinstance(value, bool):
        raise ParameterError(tr(f"{name}={value!r}: expected a number, got a boolean",
                                 f"{name}={value!r}：这里要填数字，不是布尔值"))
    if isinstance(value, str):
        try:
            value = float(value) if kind is float else int(value.strip())
        except ValueError:
            example = f"{name} = {'6e-5' if name == 'learning_rate' else 10}"
            raise ParameterError(tr(f"{name}={value!r} is not a number. Pass a {kind.__name__}, "
                                    f"e.g. {example} in the parameters cell",
                                    f"{name}={value!r} 不是数字。请在参数单元格里填一个 {kind.__name__}，"
                                    f"例如 {example}")) from None
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ParameterError(tr(f"{name}={value!r}: expected a whole number", f"{name}={value!r}：这里要填整数"))
    else:
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParameterError(tr(f"{name}={value!r}: expected a finite number", f"{name}={value!r}：这里要填有限的数字"))
        value = float(value)
    if minimum is not None and value < minimum:
        raise ParameterError(tr(f"{name}={value!r} is out of range: it must be >= {minimum}",
                                f"{name}={value!r} 超出范围：它必须 >= {minimum}"))
    return value


def _bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ParameterError(tr(f"{name}={value!r}: expected True or False", f"{name}={value!r}：这里要填 True 或 False"))


def resolve(profile: str = "smoke", *, framework: str | None = None, output_dir: str | None = None,
            push_to_hub=False, hub_model_id: str | None = None, resume=False, fast=False, **overrides) -> Params:
    """Merge ``overrides`` (``None`` = keep the profile's value) into ``profile`` and validate.

    ``framework`` ("pt" / "tf") picks the framework's profile values (:func:`profile_values`: the TensorFlow
    ``guide`` recipe starts at the learning rate 1e-4) and the default ``output_dir``,
    ``<models_root()>/segformer-<profile>-<fw>`` (:func:`default_output_dir`); a relative ``output_dir`` is taken from the checkout's root
    (:func:`absolute_output_dir`). Messages are in the session's language (:mod:`seghelpers.i18n`).
    """
    if framework not in (None, "pt", "tf"):
        raise ParameterError(tr(f"framework={framework!r}: use 'pt' or 'tf'", f"framework={framework!r}：请用 'pt' 或 'tf'"))
    if profile not in PROFILES:
        raise ParameterError(tr(f"profile={profile!r} is unknown; choose one of {sorted(PROFILES)}",
                                f"没有名为 {profile!r} 的预设（profile），请从 {sorted(PROFILES)} 中选一个"))
    unknown = set(overrides) - set(PROFILES[profile])
    if unknown:
        raise ParameterError(tr(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(PROFILES[profile])}",
                                f"未知参数 {sorted(unknown)}；可用的参数有：{sorted(PROFILES[profile])}"))
    p = profile_values(profile, framework)
    p.update({k: v for k, v in overrides.items() if v is not None})
    for name in ("checkpoint", "dataset", "split"):
        if not isinstance(p[name], str) or not p[name].strip():
            raise ParameterError(tr(f"{name}={p[name]!r}: expected a non-empty string",
                                    f"{name}={p[name]!r}：这里要填一个非空字符串"))
    image_size = _num("image_size", p["image_size"], int, minimum=32)
    if image_size % 32:
        near = max(32, round(image_size / 32) * 32)
        raise ParameterError(tr(f"image_size={image_size} must be a multiple of 32 (SegFormer downsamples by 32); "
                                f"try {near}",
                                f"image_size={image_size} 必须是 32 的倍数（SegFormer 会把图像缩小 32 倍）；可以试试 {near}"))
    lr = _num("learning_rate", p["learning_rate"], float)
    if not 0 < lr < 1:
        raise ParameterError(tr(f"learning_rate={lr!r} is out of range: it must lie in (0, 1), e.g. 6e-5",
                                f"learning_rate={lr!r} 超出范围：它必须在 (0, 1) 之间，例如 6e-5"))
    from .data import parse_split

    try:
        parse_split(p["split"])
    except ValueError as e:
        raise ParameterError(str(e)) from None
    max_steps = _num("max_steps", p["max_steps"], int)
    if max_steps == 0 or max_steps < -1:
        raise ParameterError(tr(f"max_steps={max_steps}: use -1 (train for num_train_epochs) or a positive number",
                                f"max_steps={max_steps}：请填 -1（按 num_train_epochs 训练）或一个正整数"))
    epochs = _num("num_train_epochs", p["num_train_epochs"], float)
    if epochs <= 0:
        raise ParameterError(tr(f"num_train_epochs={epochs!r} is out of range: it must be > 0",
                                f"num_train_epochs={epochs!r} 超出范围：它必须 > 0"))
    hub_model_id = hub_model_id or None
    if hub_model_id is not None and not re.match(r"^[\w.-]+(/[\w.-]+)?$", str(hub_model_id)):
        raise ParameterError(tr(f"hub_model_id={hub_model_id!r} is not a valid repo id like 'me/segformer-b0-ade'",
                                f"hub_model_id={hub_model_id!r} 不是合法的仓库 id，应当形如 'me/segformer-b0-ade'"))
    return Params(
        profile=profile,
        checkpoint=p["checkpoint"].strip(),
        dataset=p["dataset"].strip(),
        split=p["split"].strip(),
        image_size=image_size,
        num_train_epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr,
        batch_size=_num("batch_size", p["batch_size"], int, minimum=1),
        eval_steps=_num("eval_steps", p["eval_steps"], int, minimum=1),
        save_steps=_num("save_steps", p["save_steps"], int, minimum=1),
        seed=_num("seed", p["seed"], int, minimum=0),
        output_dir=absolute_output_dir(output_dir) if output_dir else default_output_dir(profile, framework),
        push_to_hub=_bool("push_to_hub", push_to_hub),
        hub_model_id=hub_model_id,
        resume=_bool("resume", resume),
        fast=_bool("fast", fast),
        framework=framework,
    )


#: the parameters every notebook's ``parameters`` cell defines (notebooks/src/_snippets/parameters.py)
NOTEBOOK_PARAMETERS = ("checkpoint", "dataset", "split", "image_size", "num_train_epochs", "max_steps",
                       "learning_rate", "batch_size", "seed", "output_dir", "push_to_hub", "resume", "fast")


def resolve_namespace(namespace: dict, framework: str | None = None) -> Params:
    """:func:`resolve` with the parameters read from a notebook's namespace (``globals()``)."""
    missing = [n for n in ("profile", *NOTEBOOK_PARAMETERS) if n not in namespace]
    if missing:
        raise ParameterError(tr(f"the parameters cell does not define {missing}", f"参数单元格里没有定义 {missing}"))
    return resolve(namespace["profile"], framework=framework, **{n: namespace[n] for n in NOTEBOOK_PARAMETERS})


def apply_cli(namespace: dict, argv: list[str] | None = None) -> dict:
    """Script form of papermill's ``-p``: ``--name value`` pairs override names already in ``namespace``.

    ``make script`` inserts a call right after a notebook's parameters cell, so the exported script
    takes the same parameters: ``python 04_train_pytorch.py --profile smoke --max_steps 20``.
    Values are read as Python literals when they parse (``20``, ``6e-5``, ``True``), else as strings.
    """
    import ast
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) % 2 or any(not a.startswith("--") for a in argv[::2]):
        raise ParameterError(f"expected --name value pairs, got {argv}")
    changed = {}
    for flag, raw in zip(argv[::2], argv[1::2]):
        name = flag[2:].replace("-", "_")
        if name not in namespace:
            raise ParameterError(f"unknown parameter --{name}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        changed[name] = value
    namespace.update(changed)
    return changed
