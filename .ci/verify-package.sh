#!/usr/bin/env bash
# Packs PruneGen and builds + runs tests/PackageConsumer against the packed package from a local
# folder source, with a private package cache so an older PruneGen package can never be picked up.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet pack "$root/src/PruneGen/PruneGen.csproj" -c Release -o "$work/feed" --nologo -v q
cp -r "$root/tests/PackageConsumer" "$work/consumer"
rm -rf "$work/consumer/bin" "$work/consumer/obj"
dotnet run --project "$work/consumer/PackageConsumer.csproj" -c Release \
  -p:RestoreAdditionalProjectSources="$work/feed" -p:RestorePackagesPath="$work/packages" --nologo
