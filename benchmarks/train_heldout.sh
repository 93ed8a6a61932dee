#!/usr/bin/env bash
# Six paintings of the image kit that no setting was tuned on, each trained as a new user would
# (`brushwork train --content PHOTOS --style PAINTING`, nothing else), one at a time and timed
# (benchmarks/new_style.py, RESULTS.md section "new-style"), then measured against the peer on
# validation photos by benchmarks/peer.py (section "peer-heldout", sheet
# docs/images/peer_heldout.jpg). Run from the repository root with the kit in ../shared/data;
# models already in OUT are kept (RETRAIN=1 trains them again).
set -euo pipefail
out=${OUT:-runs/heldout}
python benchmarks/new_style.py --out "$out" ${RETRAIN:+--retrain}
# shellcheck disable=SC2046  # one word per argument
python benchmarks/peer.py --section peer-heldout --sheet docs/images/peer_heldout.jpg --optimize-photos 1 \
    $(python benchmarks/new_style.py --out "$out" --peer-arguments) "$@"
