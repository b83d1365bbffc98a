# Setup. On Colab: install the kit (+ tf-keras for TensorFlow). Everywhere: a PyTorch notebook keeps
# transformers from importing TensorFlow as well (that would cost ~8 s and ~640 MB).
import os
import subprocess
import sys

FRAMEWORK = {{FW}}
if FRAMEWORK != "tf":
    os.environ.setdefault("USE_TF", "0")  # must come before the first transformers import
if "google.colab" in sys.modules:
    extra = ["tf-keras==2.21.0"] if FRAMEWORK == "tf" else []
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *extra,
                    "seghelpers[colab] @ git+https://github.com/{{REPO}}@{{BRANCH}}"], check=True)

import seghelpers.quiet

# hide start-up banners and routine library notices; real warnings still show (SEGKIT_QUIET=0 shows all)
seghelpers.quiet.apply()
