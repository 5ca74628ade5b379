using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PruneGen.Generators.Tests;

/// <summary>An AdditionalFiles item held in memory (what the compiler passes for <c>&lt;AdditionalFiles Include="..."/&gt;</c>).</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text, System.Text.Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Runs the generator with AdditionalFiles (pruning plans) besides the C# sources.</summary>
internal static class PrunedNetworkHarness
{
    /// <summary>Where test plans live, as an absolute path like the compiler passes them.</summary>
    public const string PlanPath = "/repo/App/plans/base.plan.json";

    /// <summary>A small VGG-like base and a [PrunedNetwork] of it, in one file.</summary>
    public const string Sources = """
        using PruneGen;

        namespace App;

        [Network(1, 8, 8)]
        [Conv2D("conv1", 8, 3, Padding = 1), ReLU, MaxPool2D(2)]
        [Conv2D("conv2", 16, 3, Padding = 1), ReLU]
        [Flatten]
        [Dense("fc1", 12), ReLU]
        [Dense("logits", 4)]
        public partial class Base;

        [PrunedNetwork(typeof(Base), "plans/base.plan.json")]
        public partial class Small;
        """;

    /// <summary>A valid plan for <c>Base</c>.</summary>
    public const string Plan = """
        {
          "format": "prunegen.plan",
          "version": 1,
          "network": "Base",
          "criterion": "l1",
          "seed": 1,
          "groups": [
            { "name": "conv1", "channels": 8, "kept": [0, 2, 3, 5] },
            { "name": "conv2", "channels": 16, "kept": [1, 2, 3, 4, 5, 6, 7, 8] },
            { "name": "fc1", "channels": 12, "kept": [0, 1, 2, 3, 4, 5] }
          ],
          "removedBlocks": []
        }
        """;

    public static GeneratorRun Run(string sources, params AdditionalText[] files) =>
        Run(GeneratorHarness.Compile(GeneratorHarness.Parse(sources, "App.cs")), files);

    public static GeneratorRun Run(Compilation compilation, params AdditionalText[] files) =>
        GeneratorHarness.Run(compilation, GeneratorHarness.CreateDriver().AddAdditionalTexts(ImmutableArray.Create(files)));
}
