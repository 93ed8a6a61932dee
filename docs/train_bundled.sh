#!/usr/bin/env bash
# How the bundled styles were trained (run from the repository root, with the project's
# offline image kit in ../shared/data). Default settings (150 steps from the base generator,
# the EfficientNet-Lite0 loss network) except the style name and output. `monet` is
# brushwork 0.5.0's model (800 steps from random weights; docs/bundled-styles.md says why).
set -euo pipefail
data=${DATA:-../shared/data}
out=${OUT:-src/brushwork/styles}
common=(--content "$data/content/train" --quiet)

/usr/bin/time -v brushwork train "${common[@]}" --style "$data/style/vangogh_the_starry_night_1889.jpg" \
    --name starry_night --description "Van Gogh, The Starry Night (1889): deep blues, swirling strokes" \
    --output "$out/starry_night.safetensors" --run-dir runs/starry_night
/usr/bin/time -v brushwork train "${common[@]}" --style "$data/style/hokusai_the_great_wave_off_kanagawa.jpg" \
    --name great_wave --description "Hokusai, The Great Wave off Kanagawa: Prussian blue woodblock print" \
    --output "$out/great_wave.safetensors" --run-dir runs/great_wave
/usr/bin/time -v brushwork train "${common[@]}" --style "$data/collections/monet" \
    --name monet --description "Claude Monet, 400 paintings: soft impressionist light and colour" \
    --output "$out/monet.safetensors" --run-dir runs/monet
# One model of the three styles, with strength control. The styles take turns, one per step:
# 450 steps is 150 per style, as the single styles have.
/usr/bin/time -v brushwork train "${common[@]}" \
    --style starry_night="$data/style/vangogh_the_starry_night_1889.jpg" \
    --style great_wave="$data/style/hokusai_the_great_wave_off_kanagawa.jpg" \
    --style monet="$data/collections/monet" --max-strength 1.5 --iterations 450 \
    --name classics --description "Starry Night, Great Wave and Monet in one model: strength, blends and regions" \
    --output "$out/classics.safetensors" --run-dir runs/classics
# Not bundled: a second run of two single styles, the same commands with --seed 1, to see how
# far two runs of one recipe land apart (benchmarks/controls.py --also-single):
#   brushwork train "${common[@]}" --style "$data/style/vangogh_the_starry_night_1889.jpg" \
#       --name starry_night --seed 1 --output runs/seed1/starry_night.safetensors --run-dir runs/seed1/starry_night
#   brushwork train "${common[@]}" --style "$data/style/hokusai_the_great_wave_off_kanagawa.jpg" \
#       --name great_wave --seed 1 --output runs/seed1/great_wave.safetensors --run-dir runs/seed1/great_wave
