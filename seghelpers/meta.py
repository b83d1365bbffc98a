"""One description of a data set: :class:`DatasetMeta` (label convention, class names, palette, ignore index).

Every helper that needs any part of a data set's description takes the whole object through the
keyword ``meta=`` (the image-processor loader, the transforms, the metrics, legends, overlays, plots,
the model loaders) and takes each part from it, so a learner's script never states the convention
in one place and the names or colours in another. :func:`resolve` is how the helpers do it:

* ``meta`` given: used as it is (a part given beside it must agree, or ``ValueError``);
* only ``id2label`` (names) given: the description the kit loaded with those names (its declared
  palette and convention) when there is one, ADE20K's when the names are ADE20K's, else the names
  with the ADE palette's first rows;
* nothing: ADE20K, but only where the class count is ADE20K's (150) or unknown; any other count
  raises ``ValueError`` naming ``meta=`` as the fix, instead of silently using ADE's names.

Like mmsegmentation's ``dataset_meta``, the description can travel with a trained model:
:meth:`DatasetMeta.save` writes ``dataset_meta.json`` next to ``config.json`` and :func:`load`
reads it back. Layering: this module imports only numpy, :mod:`.labels`, :mod:`.palette` and :mod:`.i18n`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .i18n import tr
from .labels import IGNORE_INDEX, NUM_LABELS, id2label as ADE_ID2LABEL, normalize_id2label
from .palette import ade_palette

#: the file a saved model folder carries its data set's description in (next to config.json)
META_FILE_IN_MODEL = "dataset_meta.json"


def default_palette(num_labels: int) -> np.ndarray:
    """(num_labels, 3) uint8 colours: the ADE palette's first rows (repeated beyond 150 classes)."""
    return np.ascontiguousarray(np.resize(ade_palette(), (int(num_labels), 3)))


@dataclass(frozen=True, eq=False)
class DatasetMeta:
    """A data set's description, used by every step that touches labels (pass it as ``meta=``).

    * ``id2label`` / ``label2id``: the model's classes, ids ``0..N-1`` (any form
      :func:`seghelpers.normalize_id2label` accepts; stored as ``{int: str}``);
    * ``reduce_labels``: ``True`` is ADE20K's convention (mask value 0 = "other", ignored; value ``k`` is
      class ``k - 1``), what ``SegformerImageProcessor(do_reduce_labels=True)`` does; ``False``: mask
      value ``k`` is class ``k`` (0 is a real class, e.g. "background"), 255 ignored;
    * ``ignore_index``: the value, after reduction, that loss and metric skip (255);
    * ``palette``: (N, 3) uint8 RGB, row ``i`` colours class ``i`` (default: the ADE palette's first rows);
    * ``name``: for messages ("ADE20K", or the folder's name).

    Raises ``ValueError`` for a single class (nothing for argmax to choose) or a palette that is not
    one ``[r, g, b]`` per class; ``TypeError``/``ValueError`` from :func:`normalize_id2label`.
    """

    id2label: dict
    reduce_labels: bool = True
    ignore_index: int = IGNORE_INDEX
    palette: np.ndarray | None = field(default=None, repr=False)
    name: str = "dataset"

    def __post_init__(self):
        i2l = normalize_id2label(self.id2label, f"{self.name}: id2label")
        if len(i2l) < 2:
            raise ValueError(tr(
                f"{self.name}: only one class ({i2l[0]!r}). Semantic segmentation picks one class per pixel, so a "
                "single class leaves nothing to choose (the model would call every pixel that class). Add a "
                "background class: id2label {\"0\": \"background\", \"1\": \"" + i2l[0] + "\"} with masks 0 = "
                "background, 1 = the object, and reduce_labels false.",
                f"{self.name}：只有一个类别（{i2l[0]!r}）。语义分割要为每个像素在类别之间做选择，只有一个类别就无从选择"
                "（模型会把每个像素都判成这一类）。请加一个背景类：id2label 写成 {\"0\": \"background\", \"1\": \""
                + i2l[0] + "\"}，掩码中 0 = 背景、1 = 目标，并设 reduce_labels 为 false。"))
        if not isinstance(self.reduce_labels, (bool, np.bool_)):
            raise TypeError(tr(f"{self.name}: reduce_labels must be True or False, got {self.reduce_labels!r}",
                               f"{self.name}：reduce_labels 只能是 True 或 False，收到的是 {self.reduce_labels!r}"))
        object.__setattr__(self, "reduce_labels", bool(self.reduce_labels))
        object.__setattr__(self, "id2label", i2l)
        pal = default_palette(len(i2l)) if self.palette is None else np.asarray(self.palette)
        if pal.shape != (len(i2l), 3) or (pal.size and (pal.min() < 0 or pal.max() > 255)):
            raise ValueError(tr(f"{self.name}: palette must hold one [r, g, b] (0..255) per class: "
                                f"{len(i2l)} rows, got shape {pal.shape}",
                                f"{self.name}：调色板（palette）必须为每个类别给出一个 [r, g, b]（0..255），"
                                f"应有 {len(i2l)} 行，实际形状为 {pal.shape}"))
        pal = pal.astype(np.uint8)
        pal.setflags(write=False)
        object.__setattr__(self, "palette", pal)

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @property
    def label2id(self) -> dict[str, int]:
        return {v: k for k, v in self.id2label.items()}

    def processor_kwargs(self) -> dict:
        """Keywords for ``AutoImageProcessor.from_pretrained``: ``{"do_reduce_labels": self.reduce_labels}``."""
        return {"do_reduce_labels": self.reduce_labels}

    def model_kwargs(self) -> dict:
        """Keywords for a model's ``from_pretrained``: ``id2label``, ``label2id``, ``num_labels``."""
        return {"id2label": dict(self.id2label), "label2id": self.label2id, "num_labels": self.num_labels}

    def to_model_ids(self, annotation) -> np.ndarray:
        """Raw mask (PIL or (H, W) array of mask values) -> (H, W) uint8 model class ids, 255 = ignored.

        ``reduce_labels=True``: 0 -> 255, ``k`` -> ``k - 1`` (as the image processor does);
        ``False``: values unchanged. Values that are no class become 255 (ignored). Raises ``ValueError``
        for an array that is not 2-D.
        """
        from .labels import reduce_labels

        a = np.asarray(annotation)
        if a.ndim != 2:
            raise ValueError(tr(f"{self.name}: an annotation must be a (H, W) map of class values, got shape {a.shape}",
                                f"{self.name}：标注必须是 (H, W) 的类别值图，实际形状是 {a.shape}"))
        out = reduce_labels(a) if self.reduce_labels else a.astype(np.int64)
        out = np.where((out >= 0) & (out < self.num_labels), out, self.ignore_index)
        return out.astype(np.uint8)

    def describe(self) -> str:
        """One line: the name, the class count and the label convention, in the session's language."""
        if self.reduce_labels:
            conv = tr("mask 0 = ignored 'other', mask k = class k-1 (reduce_labels=True)",
                      "标注值 0 是被忽略的“其他”，标注值 k 对应类别 k-1（reduce_labels=True）", keep_en=False)
        else:
            conv = tr("mask k = class k, 255 = ignored (reduce_labels=False)",
                      "标注值 k 对应类别 k，255 表示忽略（reduce_labels=False）", keep_en=False)
        return tr(f"{self.name}: {self.num_labels} classes; {conv}", f"{self.name}：{self.num_labels} 个类别；{conv}",
                  keep_en=False)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"id2label": {"0": ...}, "reduce_labels", "ignore_index", "palette", "name"}``."""
        return {"id2label": {str(k): v for k, v in self.id2label.items()}, "reduce_labels": self.reduce_labels,
                "ignore_index": int(self.ignore_index), "palette": self.palette.tolist(), "name": self.name}

    def save(self, folder) -> Path:
        """Write ``dataset_meta.json`` into ``folder`` (e.g. a saved model's), so that :func:`load` finds it."""
        path = Path(folder) / META_FILE_IN_MODEL
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), "utf-8")
        return path

    #: so that ``sh.save_pretrained_atomic(folder, model, image_processor, meta)`` saves it with the model
    save_pretrained = save


#: ADE20K / SceneParse150: 150 classes, raw 0 = "other" (ignored)
ADE20K = DatasetMeta(ADE_ID2LABEL, reduce_labels=True, name="ADE20K")

# descriptions the kit has loaded, so that a helper given only the names finds the declared palette, and
# the transforms find the convention of the data set whose masks they receive (by the masks' file paths)
_BY_NAMES: dict[tuple, DatasetMeta] = {}
_BY_PATH: dict[str, DatasetMeta] = {}


def register(meta: DatasetMeta, paths=()) -> DatasetMeta:
    """Remember ``meta`` (by its class names, and by the mask files ``paths`` of a loaded data set)."""
    _BY_NAMES[tuple(meta.id2label.values())] = meta
    for p in paths:
        _BY_PATH[str(p)] = meta
    return meta


def for_path(path) -> DatasetMeta | None:
    """The description of the loaded data set a mask file belongs to, or None."""
    return _BY_PATH.get(str(path)) if path else None


def for_names(id2label) -> DatasetMeta | None:
    """The loaded description with exactly these class names (ADE20K's for ADE's names), or None."""
    names = tuple(normalize_id2label(id2label).values())
    if names in _BY_NAMES:
        return _BY_NAMES[names]
    return ADE20K if names == tuple(ADE_ID2LABEL.values()) else None


def load(folder) -> DatasetMeta | None:
    """The description a saved model folder carries (``dataset_meta.json``), or None when it has none."""
    path = Path(str(folder)).expanduser() / META_FILE_IN_MODEL
    if not path.is_file():
        return None
    d = json.loads(path.read_text("utf-8"))
    return register(DatasetMeta(d["id2label"], reduce_labels=d["reduce_labels"], ignore_index=d.get("ignore_index", 255),
                                palette=d.get("palette"), name=d.get("name", str(folder))))


def is_meta(obj) -> bool:
    return isinstance(obj, DatasetMeta)


def resolve(meta=None, id2label=None, palette=None, num_labels: int | None = None, where: str = "") -> DatasetMeta:
    """The whole description from whatever part a helper was given (see the module's docstring).

    ``meta``: a :class:`DatasetMeta` (or, for convenience, any label-map form, read as ``id2label``);
    ``id2label``: names in any accepted form (a :class:`DatasetMeta` there counts as ``meta``);
    ``palette``: (N, 3) colours overriding the description's; ``num_labels``: the class count the caller
    works with (must match). ``where`` names the caller in messages.

    Raises ``ValueError`` naming ``meta=`` as the fix when the parts disagree, or when only a class count
    other than ADE20K's is known (ADE20K's names would be wrong).
    """
    if meta is not None and not is_meta(meta):
        meta, id2label = None, meta if id2label is None else id2label
    if is_meta(id2label):
        if meta is not None and meta is not id2label:
            raise ValueError(tr(f"{where}: meta= and id2label= are two different descriptions; pass meta= only",
                                f"{where}：meta= 和 id2label= 是两个不同的数据集描述；只传 meta= 即可"))
        meta, id2label = id2label, None
    if meta is not None and id2label is not None:
        if normalize_id2label(id2label) != meta.id2label:
            raise ValueError(tr(
                f"{where}: id2label= names other classes than meta= ({meta.name}); pass meta= only",
                f"{where}：id2label= 给出的类别与 meta=（{meta.name}）不一致；只传 meta= 即可"))
    if meta is None and id2label is not None:
        names = normalize_id2label(id2label, f"{where}: id2label" if where else "id2label")
        meta = for_names(names)
        if meta is None:
            meta = _names_only(names)
    if meta is None:
        if num_labels not in (None, NUM_LABELS):
            raise ValueError(tr(
                f"{where}: num_labels={num_labels} but no class names; without them the kit would use ADE20K's "
                f"({', '.join(list(ADE_ID2LABEL.values())[:3])}, ...), which are not your data set's. Pass the data "
                "set's description: meta=sh.dataset_meta(<your folder>) (or id2label=...).",
                f"{where}：给了 num_labels={num_labels}，但没有类别名；缺了它们，套件只能用 ADE20K 的类别名"
                f"（{', '.join(list(ADE_ID2LABEL.values())[:3])} ……），那不是你的数据集的类别。请传入数据集的描述："
                "meta=sh.dataset_meta(<你的文件夹>)（或 id2label=...）。"))
        meta = ADE20K
    if num_labels is not None and int(num_labels) != meta.num_labels:
        raise ValueError(tr(
            f"{where}: num_labels={num_labels} but {meta.name} has {meta.num_labels} classes "
            f"({', '.join(list(meta.id2label.values())[:4])}{', ...' if meta.num_labels > 4 else ''}); "
            "pass the description of the data set the model was trained on: meta=sh.dataset_meta(<folder>)",
            f"{where}：num_labels={num_labels}，但 {meta.name} 有 {meta.num_labels} 个类别"
            f"（{', '.join(list(meta.id2label.values())[:4])}{' ……' if meta.num_labels > 4 else ''}）；"
            "请传入训练模型所用数据集的描述：meta=sh.dataset_meta(<文件夹>)"))
    if palette is not None:
        pal = np.asarray(palette)
        if pal.ndim != 2 or pal.shape[1] != 3:
            raise ValueError(tr(f"{where}: palette must be an (N, 3) array of RGB colours, got shape {pal.shape}",
                                f"{where}：palette 必须是 (N, 3) 的 RGB 颜色数组，实际形状是 {pal.shape}"))
        if pal.shape[0] != meta.num_labels or not np.array_equal(pal, meta.palette):
            meta = _with_palette(meta, pal)
    return meta


class _NamesOnly(DatasetMeta):
    """Names known, convention not (built from an ``id2label`` alone; only names and colours are used)."""


def _names_only(names: dict) -> DatasetMeta:
    return _NamesOnly(names, reduce_labels=True, name="id2label")


def _with_palette(meta: DatasetMeta, pal: np.ndarray) -> DatasetMeta:
    rows = np.resize(pal.astype(np.uint8), (meta.num_labels, 3)) if len(pal) < meta.num_labels else pal[:meta.num_labels]
    return type(meta)(meta.id2label, reduce_labels=meta.reduce_labels, ignore_index=meta.ignore_index,
                      palette=rows, name=meta.name)


def processor_reduces(processor) -> bool | None:
    """The ``do_reduce_labels`` of an image processor (or the kit's fast one), None when it has none."""
    value = getattr(processor, "do_reduce_labels", None)
    return None if value is None else bool(value)


def check_processor(processor, meta: DatasetMeta, where: str) -> None:
    """Raise ``ValueError`` when ``processor``'s ``do_reduce_labels`` contradicts ``meta.reduce_labels``.

    Training with the wrong one is silently wrong: with ``do_reduce_labels=True`` on masks where 0 is a
    real class, that class becomes 255 (ignored) and every other class shifts down by one.
    """
    reduces = processor_reduces(processor)
    if reduces is None or reduces == meta.reduce_labels:
        return
    if meta.reduce_labels:
        effect_en = (f"mask value 0 ('other' in {meta.name}) would be trained as class 0 "
                     f"({meta.id2label[0]!r}) and every class shifted by one")
        effect_zh = f"掩码值 0（{meta.name} 中的“其他”）会被当成类别 0（{meta.id2label[0]!r}）训练，其余类别都错位一格"
    else:
        effect_en = (f"class 0 ({meta.id2label[0]!r}) would become 255 (ignored) and class 1 "
                     f"({meta.id2label[1]!r}) would be trained as {meta.id2label[0]!r}")
        effect_zh = (f"类别 0（{meta.id2label[0]!r}）会变成 255（被忽略），类别 1（{meta.id2label[1]!r}）"
                     f"会被当成 {meta.id2label[0]!r} 训练")
    raise ValueError(tr(
        f"{where}: the image processor has do_reduce_labels={reduces}, but {meta.name} declares "
        f"reduce_labels={meta.reduce_labels}: {effect_en}, and the metric would look fine. Load the processor "
        "with the data set's convention: AutoImageProcessor.from_pretrained(checkpoint, "
        "do_reduce_labels=meta.reduce_labels) (as notebook 02 does), or sh.load_image_processor(checkpoint, "
        "meta=meta).",
        f"{where}：图像处理器的 do_reduce_labels={reduces}，而 {meta.name} 声明的是 "
        f"reduce_labels={meta.reduce_labels}：{effect_zh}，指标却看不出问题。请按数据集的标签约定加载处理器："
        "AutoImageProcessor.from_pretrained(checkpoint, do_reduce_labels=meta.reduce_labels)（第 02 篇就是这样做的），"
        "或者 sh.load_image_processor(checkpoint, meta=meta)。"))


def check_batch(processor, meta: DatasetMeta | None, annotations, where: str) -> None:
    """:func:`check_processor` against ``meta``, or else against the data set the first mask was loaded from.

    ``annotations``: the batch's masks (PIL images as ``datasets`` decodes them: they keep their file name).
    """
    if meta is None and len(annotations):
        meta = for_path(getattr(annotations[0], "filename", None))
    if meta is not None:
        check_processor(processor, meta, where)
