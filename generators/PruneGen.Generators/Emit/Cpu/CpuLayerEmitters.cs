using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Picks the emitter for a layer kind.</summary>
internal static class CpuLayerEmitters
{
    private static readonly DenseEmitter Dense = new();
    private static readonly Conv2DEmitter Conv = new();
    private static readonly BatchNormEmitter BatchNorm = new();
    private static readonly ActivationEmitter Activation = new();
    private static readonly PoolEmitter Pool = new();
    private static readonly AliasEmitter Alias = new();
    private static readonly JoinEmitter Join = new();

    public static ICpuLayerEmitter For(LayerKind kind) => kind switch
    {
        LayerKind.Dense => Dense,
        LayerKind.Conv2D => Conv,
        LayerKind.BatchNorm => BatchNorm,
        LayerKind.ReLU or LayerKind.LeakyReLU or LayerKind.Sigmoid or LayerKind.Tanh or LayerKind.Softmax => Activation,
        LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool => Pool,
        LayerKind.Flatten or LayerKind.Dropout => Alias,
        LayerKind.Add or LayerKind.Concat => Join,
        _ => throw new System.NotSupportedException($"No CPU emitter for layer kind {kind}."),
    };

    /// <summary>Writes <c>public static int Name => value;</c> members of a shape struct.</summary>
    public static void Constants(CodeWriter w, string header, params (string Name, int Value)[] members)
    {
        w.Open(header);
        foreach (var (name, value) in members)
        {
            w.Line($"public static int {name} => {value};");
        }

        w.Close();
    }
}
