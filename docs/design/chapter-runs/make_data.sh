#!/bin/sh
# The spike's inputs: synthetic dossiers (30, 100 chapters) and the builder's single-pass PDF HTML of each.
set -e
cd "$(dirname "$0")"
mkdir -p data
(cd /work/main && python -m tests.support.synthetic "$OLDPWD/data/d30" --chapters 30 && python -m tests.support.synthetic "$OLDPWD/data/d100" --chapters 100)
python dump_html.py data/d30 data/d30-briefing.html briefing
python dump_html.py data/d30 data/d30-book.html book
python dump_html.py data/d100 data/d100-briefing.html briefing
python dump_html.py data/d100 data/d100-book.html book
