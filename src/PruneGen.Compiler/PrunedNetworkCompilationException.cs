using System;
using System.Collections.Generic;
using System.Text;

namespace PruneGen.Compiler;

/// <summary>One problem the generator or the C# compiler reported while compiling a pruned network.</summary>
/// <param name="Id">The diagnostic ID: <c>PG…</c> from PruneGen's generator (plan problems are PG0030–PG0036), <c>CS…</c> from the C# compiler.</param>
/// <param name="Message">What is wrong, and usually how to fix it.</param>
/// <param name="Location">Where: <c>plan.json(line,column)</c> for a plan problem, a generated file for a compiler error; null when nowhere in particular.</param>
public sealed record CompilationProblem(string Id, string Message, string? Location)
{
    /// <inheritdoc/>
    public override string ToString() => Location is null ? $"{Id}: {Message}" : $"{Id} at {Location}: {Message}";
}

/// <summary>
/// A pruned network could not be compiled: the plan does not fit the base network (the usual case), the base is
/// not a network PruneGen can read, or the generated code did not compile (a PruneGen bug). Lists every problem.
/// </summary>
public sealed class PrunedNetworkCompilationException : Exception
{
    /// <summary>Creates the exception for the pruned class <paramref name="className"/> of <paramref name="baseNetwork"/>.</summary>
    public PrunedNetworkCompilationException(string className, string baseNetwork, IReadOnlyList<CompilationProblem> problems)
        : base(Format(className, baseNetwork, problems))
    {
        ClassName = className;
        BaseNetwork = baseNetwork;
        Problems = problems;
    }

    /// <summary>The pruned class that was being compiled.</summary>
    public string ClassName { get; }

    /// <summary>The base network's type name.</summary>
    public string BaseNetwork { get; }

    /// <summary>Every error reported, in the order reported.</summary>
    public IReadOnlyList<CompilationProblem> Problems { get; }

    private static string Format(string className, string baseNetwork, IReadOnlyList<CompilationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var sb = new StringBuilder();
        sb.Append("Could not compile pruned network '").Append(className).Append("' of '").Append(baseNetwork).Append("': ")
            .Append(problems.Count == 1 ? "1 problem:" : $"{problems.Count} problems:");
        foreach (var p in problems)
        {
            sb.AppendLine().Append("  ").Append(p);
        }

        return sb.ToString();
    }
}
