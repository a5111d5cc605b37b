#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04).
# The autograder zip holds: setup.sh, run_autograder, pylab/ (the lab's source tree,
# e.g. from `git archive`), assignment/ (the course's assignment folder, its tests/
# included) and optionally tests/ (more instructor checks, pytest files).
# pylab needs Python 3.11; Ubuntu 22.04's python3 is 3.10, so Ubuntu's own python3.11
# packages are installed beside it. pytest runs the instructor checks.
# AUTOGRADER_ROOT (default /autograder) lets a test run it against a simulated layout.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  python3.11 python3.11-venv python3.11-dev gcc procps bubblewrap
python3.11 -m venv "$root/venv"
"$root/venv/bin/pip" install -q "$root/source/pylab" pytest
"$root/venv/bin/pylab" doctor || true   # the image's build log says what this machine lacks
