import time


def at_size(maps, side):
    """(n, h, w) class maps -> n maps of side x side, nearest neighbour (class ids stay class ids)."""
    maps = np.asarray(maps)
    rows, cols = np.arange(side) * maps.shape[1] // side, np.arange(side) * maps.shape[2] // side
    return [m[np.ix_(rows, cols)] for m in maps]


preds = at_size(eval_logits.argmax(axis=1), P.image_size)  # the made-up batch's predictions and labels,
refs = at_size(eval_labels, P.image_size)  # at this notebook's image size
args = dict(num_labels=num_labels, ignore_index=255, reduce_labels=False)

start = time.perf_counter()
guide_result = metric.compute(predictions=preds, references=refs, **args)  # what the guide's function calls
guide_s = time.perf_counter() - start
kit_s = float("inf")
for _ in range(5):  # sh.mean_iou is quick: keep its fastest of 5 runs
    start = time.perf_counter()
    kit_result = sh.mean_iou(preds, refs, **args)
    kit_s = min(kit_s, time.perf_counter() - start)
print(f"{len(refs)} maps of {P.image_size}x{P.image_size}, same numbers: {same_numbers(guide_result, kit_result)}")
print(f"metric.compute: {guide_s * 1000:9.1f} ms ({guide_s * 1000 / len(refs):.1f} ms per map)")
print(f"sh.mean_iou:    {kit_s * 1000:9.1f} ms")
print(f"ratio: metric.compute takes {guide_s / kit_s:.0f}x as long")
