"""requirements.lock is the source of truth; environment.yml, pyproject extras and requirements.in agree."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1).split("[")[0].lower())] = m.group(2)
    return out


def lock():
    return _pins((ROOT / "requirements.lock").read_text().splitlines())


def test_lock_pins_everything_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if re.match(r"^[A-Za-z0-9]", b)]
    assert len(blocks) > 50
    for b in blocks:
        assert "==" in b.splitlines()[0] and "--hash=sha256:" in b, b.splitlines()[0]


def test_environment_yml_agrees_with_lock():
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    pins = lock()
    assert env, "no pins found in environment.yml"
    for name, version in env.items():
        assert pins.get(name) == version, f"environment.yml pins {name}=={version}, lock has {pins.get(name)}"


def test_pyproject_extras_and_requirements_in_agree_with_lock():
    pins = lock()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    found = _pins(d for group in extras.values() for d in group)
    found.update(_pins((ROOT / "requirements.in").read_text().splitlines()))
    assert len(found) >= 12
    for name, version in found.items():
        assert pins.get(name) == version, f"{name}=={version} but the lock has {pins.get(name)}"


def test_design_pins():
    pins = lock()
    expected = {"transformers": "4.57.6", "datasets": "5.0.1", "huggingface-hub": "0.36.2", "evaluate": "0.4.6",
                "torch": "2.14.1", "torchvision": "0.29.1", "tensorflow": "2.21.0", "tf-keras": "2.21.0"}
    assert {k: pins.get(k) for k in expected} == expected
