#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# The autograder zip holds: setup.sh, run_autograder, pylab/ (the lab's source tree,
# e.g. from `git archive`), and optionally tests/ (instructor checks, pytest files).
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev gcc procps
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q /autograder/source/pylab
