using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace PruneGen.Checkpoints;

/// <summary>Source-generated JSON metadata (reflection-free, so checkpoints work trimmed and with NativeAOT).</summary>
[JsonSerializable(typeof(List<string>))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
