#!/usr/bin/env bash
# The pictures of docs/gallery.md "Creative controls", each written by the brushwork CLI with
# the bundled `classics` model (run from the repository root), and the colour options of the
# per-image optimisation (needs the project's offline image kit in ../shared/data).
set -euo pipefail
out=${OUT:-docs/images/controls}
mkdir -p "$out"
photo=examples/photo.jpg
painting=${DATA:-../shared/data}/style/vangogh_the_starry_night_1889.jpg

for s in 0 0.25 0.5 1 1.5; do
    brushwork stylize classics "$photo" --style-mix starry_night --strength "$s" -o "$out/strength_$s.jpg"
done
for style in starry_night great_wave monet; do
    brushwork stylize classics "$photo" --style-mix "$style" -o "$out/${style}.jpg"
    brushwork stylize classics "$photo" --style-mix "$style" --preserve-color -o "$out/${style}_preserve.jpg"
done
brushwork stylize classics examples/portrait.jpg --style-mix starry_night \
    --mask examples/portrait_background.png --feather 6 -o "$out/portrait_background.jpg"
brushwork stylize classics examples/ship.jpg --feather 8 \
    --region examples/ship_sky.png=starry_night --region examples/ship_sea.png=great_wave -o "$out/ship_regions.jpg"
brushwork mix classics starry_night great_wave "$photo" --frames 6 --max-size 240 -o "$out/mix_strip.jpg"
brushwork mix classics great_wave monet "$photo" --frames 8 --max-size 240 -o "$out/mix.gif"
for option in "" --preserve-color --match-colors; do
    brushwork stylize --optimize --style "$painting" "$photo" --size 256 $option -o "$out/optimize${option//-/_}.jpg"
done
