"""The `workshop` profile (issue 25): the guide's pretrained nvidia/mit-b0 fine-tuned on real merve/scene_parse_150
rows, sized for laptop CPUs. Proven offline on local replicas of the two Hub repositories:

* `make prefetch PROFILE=workshop` plans and fetches only what the profile's notebooks read (the rows of its split,
  the model files from_pretrained reads), against the local replicas standing in for the Hub;
* notebooks 01 -> 05 run under ``profile="workshop"`` with the profile's own Hub ids, from what prefetch cached,
  with HF_HUB_OFFLINE=1, in both frameworks (steps and image size cut down: the time the full profile takes is
  measured by ``notebooks/run_all.py --profile workshop`` into SUMMARY.md, see benchmarks/WORKSHOP.md).
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replicas import build_dataset_replica, build_model_replica, fake_hub_cache, kernel_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# own folders (not test_hub_replica's): the two modules may build their replicas in parallel pytest processes
REPLICAS = ROOT / "build" / "test-replicas-v1" / "workshop"
HUB_DATASET, HUB_MODEL = "merve/scene_parse_150", "nvidia/mit-b0"
MAIN_FILES = [".gitattributes", "README.md", "config.json", "preprocessor_config.json", "pytorch_model.bin",
              "tf_model.h5"]


@pytest.fixture(scope="module")
def dataset_replica() -> Path:  # more rows than the profile's split needs, two shards
    return build_dataset_replica(REPLICAS / "merve--scene_parse_150", n_train=110, n_val=10, train_shards=2)


@pytest.fixture(scope="module")
def model_replica() -> Path:
    return build_model_replica(REPLICAS / "nvidia--mit-b0")


def test_workshop_profile_is_the_pretrained_model_on_real_rows():
    from seghelpers.params import PROFILES, resolve

    p = resolve("workshop", framework="pt")
    assert (p.checkpoint, p.dataset) == (HUB_MODEL, HUB_DATASET)
    assert p.split == "train[:100]" and p.max_steps > 0 and p.image_size < PROFILES["guide"]["image_size"]
    assert p.eval_steps <= p.max_steps // 2  # the curves get several evaluation points


def test_prefetch_plan_follows_the_profile(monkeypatch, capsys):
    from seghelpers import prefetch

    assert prefetch.profile_plan("workshop") == dict(dataset=HUB_DATASET, split="train[:100]", checkpoint=HUB_MODEL)
    assert prefetch.profile_plan("smoke") == dict(dataset="", split="train[:50]", checkpoint="")
    with pytest.raises(ValueError, match="'nope' is unknown"):
        prefetch.profile_plan("nope")
    assert prefetch.main(["--profile", "smoke"]) == 0 and "reads nothing" in capsys.readouterr().out

    calls = []
    monkeypatch.setattr(prefetch, "hub_reachable", lambda timeout=5.0: (True, ""))
    monkeypatch.setattr(prefetch, "prefetch", lambda *a, **k: calls.append(a))
    assert prefetch.main(["--profile", "workshop"]) == 0
    assert prefetch.main(["--profile", "workshop", "--split", "train[:20]", "--frameworks", "pt"]) == 0
    assert prefetch.main([]) == 0  # no profile: the guide's, as before
    assert calls == [(HUB_DATASET, "train[:100]", HUB_MODEL, ("pt", "tf")),
                     (HUB_DATASET, "train[:20]", HUB_MODEL, ("pt",)),
                     (HUB_DATASET, "train[:50]", HUB_MODEL, ("pt", "tf"))]


def _prefetch_from_replicas(dataset_replica, model_replica, kit_cache: Path, hub_cache: Path) -> dict:
    """What `make prefetch PROFILE=workshop` leaves, with the local replicas standing in for the Hub."""
    from seghelpers import prefetch

    plan = prefetch.profile_plan("workshop")
    folder, rows, data_bytes = prefetch.prefetch_dataset(plan["dataset"], plan["split"], reader=str(dataset_replica),
                                                         out_root=kit_cache / "prefetched")
    listed, fetched = [], []

    def list_files(repo):
        listed.append(repo)
        return MAIN_FILES

    def download(repo, allow):  # snapshot_download(allow_patterns=...) leaves only those files
        fetched.extend(allow)
        return fake_hub_cache(hub_cache, repo, model_replica, allow)

    files, model_bytes = prefetch.prefetch_model(plan["checkpoint"], list_files=list_files, download=download)
    return dict(folder=folder, rows=rows, data_bytes=data_bytes, files=files, fetched=fetched, listed=listed,
                model_bytes=model_bytes)


def test_prefetch_fetches_only_what_the_profile_reads(dataset_replica, model_replica, tmp_path):
    got = _prefetch_from_replicas(dataset_replica, model_replica, tmp_path / "kit", tmp_path / "hub")
    assert got["rows"] == 100  # the split's rows, not the replica's 110
    whole = sum(p.stat().st_size for p in (dataset_replica / "data").glob("train-*"))
    assert got["data_bytes"] < whole * 100 / 110 * 1.1
    assert got["listed"] == [HUB_MODEL]
    assert got["fetched"] == got["files"] == ["config.json", "preprocessor_config.json", "pytorch_model.bin",
                                              "tf_model.h5"]  # no README, no second copy of the weights
    print(f"\nworkshop prefetch on the replicas: {got['rows']} rows {got['data_bytes']} B, "
          f"model {got['model_bytes']} B")


# ------------------------------------------------------------------------------- notebooks, workshop
def _run_notebook(nb: str, out: Path, params: dict) -> dict:
    import nbformat
    import papermill as pm

    dst = out / f"{nb}.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "en" / f"{nb}.ipynb"), str(dst), parameters=params,
                        kernel_name="python3", cwd=str(out), progress_bar=False, log_output=False)
    return nbformat.read(dst, as_version=4)


def _errors(notebook) -> list[str]:
    return [o.get("ename", "") for cell in notebook.cells for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def offline_caches(tmp_path_factory, dataset_replica, model_replica):
    """Caches filled as a learner's `make prefetch PROFILE=workshop` fills them; then the kernels run offline."""
    base = tmp_path_factory.mktemp("workshop-nb")
    _prefetch_from_replicas(dataset_replica, model_replica, base / "kit", base / "hf" / "hub")
    # the Hugging Face cache too: the model files prefetch put there, read offline
    with kernel_env(base / "kit", HF_HOME=base / "hf", HF_HUB_CACHE=base / "hf" / "hub"):
        yield base


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_workshop_notebooks_offline_from_the_prefetched_caches(offline_caches, framework):
    chain = ([] if framework == "tensorflow" else ["01_data"]) + [
        f"{stage}_{framework}" for stage in ("02_preprocess", "03_metrics", "04_train", "05_inference")]
    out = offline_caches / framework
    out.mkdir()
    # the profile's own Hub ids and split; only the length and image size are cut down for the test
    params = {"profile": "workshop", "max_steps": 4, "image_size": 64, "eval_steps": 2, "save_steps": 4,
              "output_dir": str(out / "model")}
    for nb in chain:
        errors = _errors(_run_notebook(nb, out, params))
        assert not errors, f"{nb}: {errors[:3]}"
    saved = json.loads((out / "model" / "config.json").read_text())
    assert len(saved["id2label"]) == 150 and saved["architectures"][0].endswith("ForSemanticSegmentation")
