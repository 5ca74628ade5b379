#!/usr/bin/env bash
# Packs PruneGen.Runtime (inference runtime + the source generator under analyzers/dotnet/cs) and PruneGen
# (training and pruning, which depends on PruneGen.Runtime), then builds + runs tests/PackageConsumer against
# the packed packages from a local folder source, with a private package cache so an older package can never
# be picked up. The consumer references PruneGen only: the runtime and the generator come as its dependency.
# A second consumer references PruneGen.Runtime alone and checks that its networks are inference-only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet pack "$root/src/PruneGen.Runtime/PruneGen.Runtime.csproj" -c Release -o "$work/feed" --nologo -v q
dotnet pack "$root/src/PruneGen/PruneGen.csproj" -c Release -o "$work/feed" --nologo -v q
# The generator travels in PruneGen.Runtime, where the attributes are.
python3 -c 'import sys, zipfile; sys.exit(0 if "analyzers/dotnet/cs/PruneGen.Generators.dll" in zipfile.ZipFile(sys.argv[1]).namelist() else 1)' \
  "$work/feed/PruneGen.Runtime.0.1.0.nupkg" || { echo "PruneGen.Runtime package lacks analyzers/dotnet/cs/PruneGen.Generators.dll"; exit 1; }
cp -r "$root/tests/PackageConsumer" "$work/consumer"
rm -rf "$work/consumer/bin" "$work/consumer/obj"
dotnet run --project "$work/consumer/PackageConsumer.csproj" -c Release \
  -p:RestoreAdditionalProjectSources="$work/feed" -p:RestorePackagesPath="$work/packages" --nologo
cp -r "$root/tests/InferencePackageConsumer" "$work/inference"
rm -rf "$work/inference/bin" "$work/inference/obj"
dotnet run --project "$work/inference/InferencePackageConsumer.csproj" -c Release \
  -p:RestoreAdditionalProjectSources="$work/feed" -p:RestorePackagesPath="$work/packages" --nologo
