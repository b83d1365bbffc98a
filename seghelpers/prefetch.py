"""Download what a workshop needs into the Hugging Face cache, so the room can work offline.

    python -m seghelpers.prefetch [--dataset merve/scene_parse_150] [--split train[:50]]
                                  [--checkpoint nvidia/mit-b0]

Run it (or ``make prefetch``) on each machine while it is online. Afterwards set ``HF_HUB_OFFLINE=1``:
the ``guide`` profile then loads the model, the image processor and the data set from the cache.
Checks that the hub answers within a few seconds first, and fails with a clear message if not.
"""
from __future__ import annotations

import argparse
import os
import sys

HUB_URL = os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_reachable(timeout: float = 5.0) -> tuple[bool, str]:
    """Whether the hub answers an HTTP request within ``timeout`` seconds (and why not)."""
    import urllib.error
    import urllib.request

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False, "HF_HUB_OFFLINE is set; unset it (or run `make prefetch`, which does) to download"
    try:
        urllib.request.urlopen(urllib.request.Request(HUB_URL + "/api/models?limit=1", method="HEAD"),
                               timeout=timeout)
        return True, ""
    except urllib.error.HTTPError:
        return True, ""  # the server answered
    except (urllib.error.URLError, OSError) as e:
        return False, f"{HUB_URL} did not answer within {timeout:.0f} s ({getattr(e, 'reason', e)})"


def prefetch(dataset: str, split: str, checkpoint: str) -> None:
    from huggingface_hub import snapshot_download

    from .checkpoints import load_image_processor
    from .data import load_scene_parse

    print(f"model + image processor: {checkpoint}")
    snapshot_download(checkpoint)
    load_image_processor(checkpoint)
    print(f"data set: {dataset} {split}")
    ds = load_scene_parse(dataset, split)
    print(f"cached {len(ds)} examples. Offline from now on: export HF_HUB_OFFLINE=1")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="merve/scene_parse_150")
    ap.add_argument("--split", default="train[:50]")
    ap.add_argument("--checkpoint", default="nvidia/mit-b0")
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args(argv)
    ok, why = hub_reachable(args.timeout)
    if not ok:
        print(f"prefetch: the Hugging Face hub is unreachable: {why}.\n"
              "Run this where the hub can be reached; offline, use the smoke profile (synthetic data, "
              "random-init model), or copy ~/.cache/huggingface from a machine that has prefetched.",
              file=sys.stderr)
        return 2
    prefetch(args.dataset, args.split, args.checkpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
