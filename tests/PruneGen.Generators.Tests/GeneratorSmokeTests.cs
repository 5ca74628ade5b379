namespace PruneGen.Generators.Tests;

public class GeneratorSmokeTests
{
    [Fact]
    public void GeneratorTypeLoads() => Assert.NotNull(new NetworkGenerator());
}
