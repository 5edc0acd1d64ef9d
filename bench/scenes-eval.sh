#!/usr/bin/env bash
# Measures what ViCrop, VCD and AVC do on fovea's own mini LLaVA (issue 22): a held-out synthetic
# set (seeded, so the same questions everywhere), then
#   eval vqa  --method none | rel-att | grad-att | pure-grad | oracle | random
#   eval pope --decode none | vcd | avc
# and the tables of each. Results files are resumable: rerun after an interruption.
#   MODEL   model folder (default: the shipped models/scenes-llava)
#   SCENES  held-out scenes, 5 questions each (default 400: 2,000 questions, 800 yes/no)
#   JOBS    evaluations run side by side, one thread each (default 2)
#   OUT     output folder (default target/scenes-eval)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${MODEL:-$here/models/scenes-llava}"
scenes="${SCENES:-400}"
jobs="${JOBS:-2}"
out="${OUT:-$here/target/scenes-eval}"
mkdir -p "$out"
if [ ! -f "$out/data/scenes.json" ]; then
  "$here/fovea" scenes --out "$out/data" --count 1 --held-out "$scenes" --no-progress > /dev/null
fi
data="$out/data/heldout"
run() {
  kind="$1"; name="$2"
  if [ "$kind" = vqa ]; then
    FOVEA_JAVA_OPTS="-Dfovea.threads=1 ${FOVEA_JAVA_OPTS:-}" "$here/fovea" eval vqa --model "$model" --data "$data/questions.jsonl" \
      --images "$data/images" --method "$name" --out "$out/vqa-$name.jsonl" --no-progress > "$out/vqa-$name.txt"
  else
    FOVEA_JAVA_OPTS="-Dfovea.threads=1 ${FOVEA_JAVA_OPTS:-}" "$here/fovea" eval pope --model "$model" --data "$data/pope.jsonl" \
      --images "$data/images" --decode "$name" --out "$out/pope-$name.jsonl" --no-progress > "$out/pope-$name.txt"
  fi
}
export -f run
export here model data out
printf '%s\n' "vqa none" "vqa rel-att" "vqa grad-att" "vqa pure-grad" "vqa oracle" "vqa random" "pope none" "pope vcd" "pope avc" \
  | xargs -P "$jobs" -L 1 bash -c 'run "$0" "$1"'
for f in vqa-none vqa-rel-att vqa-grad-att vqa-pure-grad vqa-oracle vqa-random pope-none pope-vcd pope-avc; do
  echo "== $f"
  cat "$out/$f.txt"
done
