namespace PruneGen.Generators.Tests;

/// <summary>
/// Received/verified snapshots: <c>Snapshots/{name}.verified.cs</c> is the checked-in expectation. On a
/// mismatch (or when it is missing) the actual text goes to <c>{name}.received.cs</c> (git-ignored)
/// and the test fails; <c>PRUNEGEN_ACCEPT_SNAPSHOTS=1</c> overwrites the verified file instead.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "PRUNEGEN_ACCEPT_SNAPSHOTS";

    /// <summary>The folder holding PruneGen.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>tests/PruneGen.Generators.Tests/Snapshots in the source tree (not the build output).</summary>
    public static string Directory => Path.Combine(RepositoryRoot, "tests", "PruneGen.Generators.Tests", "Snapshots");

    public static void Verify(string name, string actual)
    {
        var verified = Path.Combine(Directory, name + ".verified.cs");
        var received = Path.Combine(Directory, name + ".received.cs");
        actual = Normalize(actual);
        var expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
        System.IO.Directory.CreateDirectory(Directory);
        if (expected == actual || Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            if (expected != actual)
            {
                File.WriteAllText(verified, actual);
            }

            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        var accept = $"If the change is intended, accept it: {AcceptVariable}=1 dotnet test tests/PruneGen.Generators.Tests (or move the received file over the verified one), and commit the .verified.cs file.";
        Assert.Fail(expected is null
            ? $"No verified snapshot {verified}; the generated text is in {received}. {accept}"
            : $"Snapshot '{name}' differs from {verified} {FirstDifference(expected, actual)}. Compare it with {received}. {accept}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line])
        {
            line++;
        }

        return $"at line {line + 1}: expected \"{(line < e.Length ? e[line] : "<end of file>")}\", got \"{(line < a.Length ? a[line] : "<end of file>")}\"";
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PruneGen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"PruneGen.sln not found above {AppContext.BaseDirectory}; snapshot tests run from the repository's build output.");
    }
}
