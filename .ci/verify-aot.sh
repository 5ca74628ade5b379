#!/usr/bin/env bash
# Publishes the deployable sample (examples/PruneGen.Deploy/PruneGen.Deploy.App) trimmed and NativeAOT-compiled,
# checks that its inference library does not depend on the training library, runs the native executable on the
# Fashion-MNIST test set, and fails unless it reports NativeAOT and an accuracy of at least
# $PRUNEGEN_AOT_MIN_ACCURACY percent (default 92). Warnings are errors, so a trimming or AOT warning (IL2xxx,
# IL3xxx) anywhere in the publish fails it too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
min=${PRUNEGEN_AOT_MIN_ACCURACY:-92}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
app="$root/examples/PruneGen.Deploy/PruneGen.Deploy.App"
lib="$root/examples/PruneGen.Deploy/PruneGen.Deploy.VggNetL1Half"

start=$(date +%s)
dotnet publish "$app" -c Release -r linux-x64 -o "$work/publish" --nologo -v q
echo "verify-aot: NativeAOT publish took $(( $(date +%s) - start )) s; executable $(stat -c %s "$work/publish/PruneGen.Deploy.App") bytes"

# The inference library's dependencies (its deps.json lists project and package dependencies): PruneGen.Runtime, not PruneGen.
deps="$lib/bin/Release/net10.0/PruneGen.Deploy.VggNetL1Half.deps.json"
grep -q '"PruneGen.Runtime/' "$deps" || { echo "verify-aot: $deps does not list PruneGen.Runtime"; exit 1; }
if grep -q '"PruneGen/' "$deps"; then
  echo "verify-aot: the inference library depends on the training library PruneGen ($deps)"; exit 1
fi
# A NativeAOT publish is one executable: no managed assembly may sit beside it.
if ls "$work/publish"/*.dll >/dev/null 2>&1; then
  echo "verify-aot: managed assemblies in the NativeAOT output: $(ls "$work/publish"/*.dll)"; exit 1
fi

"$work/publish/PruneGen.Deploy.App" --min-accuracy "$min" | tee "$work/out.txt"
grep -q '^runtime: NativeAOT' "$work/out.txt" || { echo "verify-aot: the executable did not run as NativeAOT"; exit 1; }
grep -q '^accuracy: ' "$work/out.txt" || { echo "verify-aot: no accuracy line"; exit 1; }
echo "verify-aot: OK in $(( $(date +%s) - start )) s"
