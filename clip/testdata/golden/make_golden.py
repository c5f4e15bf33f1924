"""Regenerates every golden file: runs each gen_<family>.py in this folder."""

import glob
import os
import runpy
import shutil

here = os.path.dirname(os.path.abspath(__file__))
for script in sorted(glob.glob(os.path.join(here, "gen_*.py"))):
    family = os.path.basename(script)[4:-3]
    shutil.rmtree(os.path.join(here, family), ignore_errors=True)
    print("golden:", family)
    runpy.run_path(script, run_name="__main__")
