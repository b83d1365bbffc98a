# @title Setup: installs the kit on Colab; nothing to read here (the code is folded, click to show it)
# On Colab: install the kit (a TensorFlow notebook adds the tf-keras matching Colab's TensorFlow).
# Everywhere: a PyTorch or framework-free notebook keeps transformers from importing TensorFlow (seconds, ~640 MB).
import os
import subprocess
import sys

FRAMEWORK = {{FW}}
if FRAMEWORK != "tf":
    os.environ.setdefault("USE_TF", "0")  # must come before the first transformers import
if "google.colab" in sys.modules:
    from importlib.metadata import PackageNotFoundError, version

    extra = []
    if FRAMEWORK == "tf":  # keep Colab's TensorFlow, add its tf-keras; pin both only when TF is missing
        try:
            extra = ["tf-keras~=%s.0" % ".".join(version("tensorflow").split(".")[:2])]
        except PackageNotFoundError:
            extra = ["tensorflow==2.21.0", "tf-keras==2.21.0"]
    pip = subprocess.run([sys.executable, "-m", "pip", "install", *extra,
                          "seghelpers[colab] @ git+https://github.com/{{REPO}}@{{BRANCH}}"],
                         capture_output=True, text=True)
    if pip.returncode:
        print(pip.stdout, pip.stderr, sep="\n")
        raise RuntimeError("pip install failed: its output is above")
    conflicts = pip.stderr.find("ERROR: pip's dependency resolver")
    if conflicts >= 0:  # pip still succeeded
        print(pip.stderr[conflicts:] + 'Expected: pip\'s "dependency resolver" complaint is about Colab packages '
              "this kit does not use. / 这在预料之中：pip 的依赖解析器（dependency resolver）报告的冲突只涉及本套件用不到的 Colab 预装包，可以忽略。")
    print("installed:", *extra, "seghelpers[colab]")

import seghelpers.quiet

# hide start-up banners and routine library notices; real warnings still show (SEGKIT_QUIET=0 shows all)
seghelpers.quiet.apply()
