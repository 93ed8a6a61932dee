#!/usr/bin/env bash
# How the bundled base generator (src/brushwork/training/base.safetensors) was trained: one
# model of 20 paintings of the project's offline image kit, each its own style, taking turns
# one per step. `brushwork train` starts every new style from it (--init, docs/method.md
# "What 0.8 changed"). Left out: the six held-out paintings of benchmarks/train_heldout.sh
# and Gauguin's Tahitian Women (the tuning painting on which the base's gain was measured).
# Run from the repository root with the kit in ../shared/data: 15-25 minutes on 2 CPU cores
# (0.9's: 24.5 min with evaluations beside it), 1.7 GB of memory. NPROC=4 bash docs/train_base.sh runs the same training in 4 processes with
# torchrun (one per GPU, or a share of the CPU's cores each; several machines: docs/scale-out.md):
# --batch-size stays the whole step's batch, so it trains the same model.
set -euo pipefail
data=${DATA:-../shared/data}
out=${OUT:-src/brushwork/training/base.safetensors}
paintings=(hokusai_the_great_wave_off_kanagawa klee_watercolor klimt_the_kiss_1908 leger_contrast_of_forms_1913
           leonardo_lady_with_an_ermine mondrian_cubist_composition_c1913 monet_bridge_over_a_pond_of_water_lilies_1899
           monet_water_lilies_1919 mosaic_stained_glass_woman pattern_black_zigzag pattern_bricks pattern_red_texture
           pattern_zigzag_colorful picabia_edtaonisl_1913 red_chalk_figure_study_woman_in_peasant_dress
           sakai_hoitsu_flowering_tree_screen sketch_piano_keyboard vallotton_camille_mauclair vangogh_the_night_cafe_1888
           vangogh_the_starry_night_1889)
styles=()
for name in "${paintings[@]}"; do styles+=(--style "$name=$data/style/$name.jpg"); done
if [ -n "${NPROC:-}" ]; then run=(torchrun --nproc-per-node "$NPROC" -m brushwork); else run=(brushwork); fi
/usr/bin/time -v "${run[@]}" train --content "$data/content/train" "${styles[@]}" --init none --iterations 4000 \
    --name base --description "brushwork's base generator: 20 paintings, the start of every new style" \
    --output "$out" --run-dir runs/base "$@"
