#!/usr/bin/env bash
# Six paintings of the image kit that no setting was tuned on, each trained as a new user would
# (`brushwork train --content PHOTOS --style PAINTING`, nothing else), then measured against
# the peer on validation photos by benchmarks/peer.py (RESULTS.md section "peer-heldout",
# sheet docs/images/peer_heldout.jpg). Run from the repository root with the kit in
# ../shared/data. JOBS trainings run at once, one thread each (on 2 cores, 2 is fastest).
set -euo pipefail
data=${DATA:-../shared/data}
out=${OUT:-runs/heldout}
jobs=${JOBS:-2}
paintings=(matisse_woman_with_a_hat_1905 munch_the_scream_1893 kandinsky_composition_vii_1913
           picabia_udnie_1913 turner_the_shipwreck_of_the_minotaur vangogh_wheat_field_with_cypresses_1889)
mkdir -p "$out"
for name in "${paintings[@]}"; do
    [ -f "$out/$name.safetensors" ] && continue
    OMP_NUM_THREADS=$((2 / jobs > 0 ? 2 / jobs : 1)) brushwork train --content "$data/content/train" \
        --style "$data/style/$name.jpg" --output "$out/$name.safetensors" --run-dir "$out/runs/$name" --quiet &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
models=()
for name in "${paintings[@]}"; do models+=(--model "$name=$out/$name.safetensors:$name.jpg"); done
python benchmarks/peer.py --section peer-heldout --sheet docs/images/peer_heldout.jpg --optimize-photos 1 "${models[@]}" "$@"
