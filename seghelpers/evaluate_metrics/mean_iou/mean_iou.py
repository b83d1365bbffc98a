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

    def _compute(self, predictions, references, num_labels, ignore_index, nan_to_num=None, label_map=None,
                 reduce_labels=False):
        return mean_iou(predictions, references, num_labels, ignore_index, nan_to_num, label_map, reduce_labels)
