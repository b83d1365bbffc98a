"""``mean_iou`` as a local 🤗 Evaluate module: ``evaluate.load(seghelpers.MEAN_IOU_METRIC)``.

Same inputs, keys and numbers as the hub's ``evaluate-metric/mean_iou`` (which cannot be fetched
offline); the arithmetic is :func:`seghelpers.metrics.mean_iou` (one confusion matrix).
"""
import datasets
import evaluate

from seghelpers.metrics import mean_iou

_DESCRIPTION = "Mean Intersection-over-Union for semantic segmentation (confusion-matrix implementation)."
_KWARGS = """
predictions: list of (H, W) int label maps; references: same shapes; num_labels: int;
ignore_index: int (pixels of the reference equal to it are skipped); nan_to_num: optional float;
label_map: optional dict old_id -> new_id applied to references; reduce_labels: bool (0 -> 255, k -> k-1).
Returns mean_iou, mean_accuracy, overall_accuracy, per_category_iou, per_category_accuracy.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class MeanIoU(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({
                "predictions": datasets.Sequence(datasets.Sequence(datasets.Value("uint16"))),
                "references": datasets.Sequence(datasets.Sequence(datasets.Value("uint16"))),
            }),
        )

    def _compute(self, predictions=None, references=None, num_labels=None, ignore_index=None, nan_to_num=None,
                 label_map=None, reduce_labels=False):
        if predictions is None or references is None or num_labels is None or ignore_index is None:
            from seghelpers.i18n import tr

            missing = [n for n, v in (("predictions", predictions), ("references", references),
                                      ("num_labels", num_labels), ("ignore_index", ignore_index)) if v is None]
            raise TypeError(tr(
                f"mean_iou._compute: missing {', '.join(missing)}. _compute is evaluate's internal step: it never sees "
                "what add_batch() stored. After add_batch(predictions=..., references=...), call "
                "metric.compute(num_labels=..., ignore_index=255); or, without add_batch, metric.compute(predictions="
                "..., references=..., num_labels=..., ignore_index=255).",
                f"mean_iou._compute：缺少 {', '.join(missing)}。_compute 是 evaluate 的内部步骤，看不到 add_batch() "
                "存下的数据。用过 add_batch(predictions=..., references=...) 之后，请调用 "
                "metric.compute(num_labels=..., ignore_index=255)；不用 add_batch 时，调用 metric.compute(predictions="
                "..., references=..., num_labels=..., ignore_index=255)。"))
        return mean_iou(predictions, references, num_labels, ignore_index, nan_to_num, label_map, reduce_labels)
