"""scripts/setup_env.py, the one set-up implementation (make setup calls it; Windows learners run it directly)."""
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "setup_env.py"


@pytest.fixture(scope="module")
def se():
    spec = importlib.util.spec_from_file_location("setup_env", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_script_imports_only_the_standard_library():
    imports = set(re.findall(r"^(?:import|from) ([A-Za-z_][\w]*)", SCRIPT.read_text(), re.M))
    stdlib = getattr(sys, "stdlib_module_names", None) or {"argparse", "hashlib", "os", "platform", "shutil",
                                                           "subprocess", "sys"}
    assert imports - {"__future__"} <= set(stdlib), imports - set(stdlib)


def test_lock_hash_is_sha256_of_both_locks_and_ignores_crlf(se, tmp_path):
    (tmp_path / "requirements.lock").write_bytes(b"a==1 \\\n    --hash=sha256:00\n")
    (tmp_path / "requirements-bootstrap.lock").write_bytes(b"uv==0.1\n")
    want = hashlib.sha256(b"a==1 \\\n    --hash=sha256:00\nuv==0.1\n").hexdigest()[:12]
    assert se.lock_hash(str(tmp_path)) == want
    (tmp_path / "requirements.lock").write_bytes(b"a==1 \\\r\n    --hash=sha256:00\r\n")  # a Windows checkout
    assert se.lock_hash(str(tmp_path)) == want
    (tmp_path / "requirements-bootstrap.lock").write_bytes(b"uv==0.2\n")
    assert se.lock_hash(str(tmp_path)) != want


def test_lock_hash_of_the_repo_matches_sha256sum(se):
    """The key the Makefile used before (cat both | sha256sum | cut -c1-12): existing venvs keep their folder."""
    data = (ROOT / "requirements.lock").read_bytes() + (ROOT / "requirements-bootstrap.lock").read_bytes()
    assert se.lock_hash() == hashlib.sha256(data).hexdigest()[:12]


def test_missing_lock_names_the_file(se, tmp_path):
    with pytest.raises(se.SetupError, match="requirements.lock is missing"):
        se.lock_hash(str(tmp_path))


def test_venv_paths_per_system(se, tmp_path):
    home = se.segkit_home({"SEGKIT_HOME": str(tmp_path)})
    assert home == str(tmp_path)
    assert se.segkit_home({}).endswith(os.path.join(".cache", "segkit"))
    venv = se.venv_dir(home, "0123456789ab")
    assert venv == os.path.join(str(tmp_path), "venv-0123456789ab")
    assert se.venv_bin(venv, "python", "Windows") == os.path.join(venv, "Scripts", "python.exe")
    assert se.venv_bin(venv, "uv", "Darwin") == os.path.join(venv, "bin", "uv")
    assert se.venv_bin(venv, "python", "Linux") == os.path.join(venv, "bin", "python")


@pytest.mark.parametrize("system, machine, mac", [("Linux", "x86_64", ""), ("Linux", "aarch64", ""),
                                                  ("Darwin", "arm64", "14.2"), ("Darwin", "arm64", "15.0"),
                                                  ("Windows", "AMD64", "")])
def test_supported_platforms(se, system, machine, mac):
    assert se.platform_problem(system, machine, mac) is None


def test_intel_mac_is_told_to_use_colab_at_once(se):
    msg = se.platform_problem("Darwin", "x86_64", "14.5")
    assert "Intel Mac" in msg and "Colab" in msg and "environment.yml" in msg
    assert "Intel 芯片的 Mac" in msg  # both languages


def test_old_macos_and_unknown_platforms(se):
    assert "macOS 13.6 is too old" in se.platform_problem("Darwin", "arm64", "13.6")
    msg = se.platform_problem("Windows", "ARM64", "")
    assert "Windows on arm64" in msg and "Colab" in msg
    assert "Colab" in se.platform_problem("FreeBSD", "amd64", "")


def test_python_picked(se):
    which = {"python3.11": "/usr/bin/python3.11", "py": "C:\\py.exe"}.get
    # this interpreter first when it is 3.11
    assert se.python_candidates("Linux", (3, 11, 9), "/venv/bin/python", which)[0] == ["/venv/bin/python"]
    # another version: python3.11 on PATH, and on Windows the py launcher
    assert se.python_candidates("Darwin", (3, 9, 6), "/usr/bin/python3", which) == [["/usr/bin/python3.11"]]
    assert se.python_candidates("Windows", (3, 12, 1), "C:\\python.exe", which) == [["/usr/bin/python3.11"],
                                                                                  ["py", "-3.11"]]
    assert se.python_candidates("Linux", (3, 12, 1), "/usr/bin/python3", lambda name: None) == []


def test_no_python_311_message_says_what_to_install(se):
    msg = se.no_python_message((3, 12, 4))
    assert "Python 3.12.4" in msg and "python.org" in msg and "py -3.11" in msg and "environment.yml" in msg
    assert "没有找到 Python 3.11" in msg


def test_wrong_explicit_python_is_refused(se):
    if sys.version_info[:2] == (3, 11):
        assert se.pick_python(sys.executable) == [sys.executable]
    else:
        with pytest.raises(se.SetupError, match="is not Python 3.11"):
            se.pick_python(sys.executable)


def test_setup_is_a_no_op_when_the_stamp_exists(se, tmp_path):
    venv = tmp_path / "venv-x"
    venv.mkdir()
    (venv / se.STAMP).write_text("")
    assert se.setup(str(venv)) == str(venv)  # nothing built, nothing removed
    assert sorted(p.name for p in venv.iterdir()) == [se.STAMP]


def test_cli_prints_the_venv_the_makefile_uses(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, str(SCRIPT), "--home", str(tmp_path), *a],  # noqa: E731
                                    capture_output=True, text=True, check=True).stdout.strip()
    key = run("hash")
    assert re.fullmatch(r"[0-9a-f]{12}", key)
    assert run("venv") == str(tmp_path / f"venv-{key}")
    assert run("python") == str(tmp_path / f"venv-{key}" / ("Scripts" if os.name == "nt" else "bin")
                                / ("python.exe" if os.name == "nt" else "python"))
    make = subprocess.run(["make", "-s", "--no-print-directory", "-n", "setup", f"SEGKIT_HOME={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True)
    if make.returncode == 0:  # make present: it calls the script with that venv
        assert f'--venv "{tmp_path}/venv-{key}" setup' in make.stdout


def test_makefile_set_up_path_has_no_gnu_only_tools():
    text = (ROOT / "Makefile").read_text()
    for tool in ("sha256sum", "md5sum", "readlink -f", "sed -i", "realpath", ".ONESHELL", "$(file "):
        assert tool not in text, f"Makefile uses {tool!r}, which macOS (make 3.81, bash 3.2, BSD tools) lacks"


def test_script_parses_on_old_pythons():
    """A learner's python3 may be old (macOS's is 3.9): the script must start there and name Python 3.11."""
    import ast

    ast.parse(SCRIPT.read_text(), feature_version=(3, 6))


def test_torch_index_keeps_every_other_pin(se):
    text = (ROOT / "requirements.lock").read_text()
    rest, pins = se.without_torch(text)
    assert sorted(pins) == ["torch==2.14.1", "torchvision==0.29.1"]
    names = re.findall(r"^([a-z0-9][a-z0-9_.\-]*)==", rest, re.M)
    assert "torch" not in names and "torchvision" not in names and not [n for n in names if n.startswith("nvidia-")]
    assert {"tensorflow", "torchmetrics", "transformers", "numpy"} <= set(names)
    all_names = re.findall(r"^([a-z0-9][a-z0-9_.\-]*)==", text, re.M)
    assert len(names) == len(all_names) - 2 - len([n for n in all_names if n.startswith(se.CUDA_PREFIXES)])
    assert "--hash=sha256:" in rest and "# via" in rest


def test_options_after_the_command_are_honoured(se, tmp_path, capsys):
    """`setup --python X` (the order SETUP.md shows) must use X: here a program that is not Python 3.11."""
    assert se.main(["setup", "--home", str(tmp_path), "--python", sys.executable + "-not-there"]) == 2
    assert "is not Python 3.11" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing built
    key = se.lock_hash()
    assert se.main(["venv", "--home", str(tmp_path), "--torch-index", "https://example.invalid/cpu"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / f"venv-{key}-torch-index")
    with pytest.raises(SystemExit):
        se.main(["hash", "--bogus"])
