using PruneGen.Examples.Networks;

namespace PruneGen.Tests.Training;

[Trait("Category", "Gradients")]
public class GradientTests
{
    public static TheoryData<string, int> SmallNetworks => new()
    {
        { nameof(GradConvNet), 1 }, { nameof(GradConvNet), 3 },
        { nameof(GradJoinNet), 1 }, { nameof(GradJoinNet), 4 },
        { nameof(GradDenseNet), 1 }, { nameof(GradDenseNet), 5 },
        { nameof(GradWinogradNet), 1 }, { nameof(GradWinogradNet), 3 },
        { nameof(GradPoolNet), 1 }, { nameof(GradPoolNet), 2 },
        { nameof(GradStridedNet), 1 }, { nameof(GradStridedNet), 3 },
        { nameof(GradWinograd4Net), 1 }, { nameof(GradWinograd4Net), 3 },
        { nameof(GradWinograd4Narrow), 1 }, { nameof(GradWinograd4Narrow), 3 },
    };

    private static ITrainableNetwork Create(string name) => name switch
    {
        nameof(GradConvNet) => new GradConvNet(),
        nameof(GradJoinNet) => new GradJoinNet(),
        nameof(GradDenseNet) => new GradDenseNet(),
        nameof(GradWinogradNet) => new GradWinogradNet(),
        nameof(GradPoolNet) => new GradPoolNet(),
        nameof(GradStridedNet) => new GradStridedNet(),
        nameof(GradWinograd4Net) => new GradWinograd4Net(),
        nameof(GradWinograd4Narrow) => new GradWinograd4Narrow(),
        nameof(Mlp) => new Mlp(),
        nameof(LeNet5) => new LeNet5(),
        nameof(VggNet) => new VggNet(),
        nameof(TinyResNet) => new TinyResNet(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(SmallNetworks))]
    public void ReferenceBackwardMatchesFiniteDifferencesForEveryLayerKind(string network, int batch) =>
        GradientCheck.AssertReferenceMatchesFiniteDifferences(Create(network), batch, seed: 11);

    [Theory]
    [MemberData(nameof(SmallNetworks))]
    public void GeneratedBackwardMatchesReferenceForEveryLayerKind(string network, int batch) =>
        GradientCheck.AssertGeneratedMatchesReference(Create(network), batch, seed: 12);

    [Theory]
    [InlineData(nameof(Mlp))]
    [InlineData(nameof(LeNet5))]
    [InlineData(nameof(VggNet))]
    [InlineData(nameof(TinyResNet))]
    public void ReferenceNetworksPassTheDirectionalFiniteDifferenceCheck(string network) =>
        GradientCheck.AssertReferenceDirectionalDerivative(Create(network), batch: 2, seed: 21);

    [Theory]
    [InlineData(nameof(Mlp))]
    [InlineData(nameof(LeNet5))]
    [InlineData(nameof(VggNet))]
    [InlineData(nameof(TinyResNet))]
    public void ReferenceNetworksGeneratedBackwardMatchesReference(string network) =>
        GradientCheck.AssertGeneratedMatchesReference(Create(network), batch: 2, seed: 22);
}
