using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using PruneGen.Generators.Emit;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators;

public sealed partial class NetworkGenerator
{
    /// <summary>
    /// Compile-time budgets and shape expectations: reads <c>[MaxMacs]</c>, <c>[MaxParameters]</c>,
    /// <c>[MaxActivationMemory]</c> and <c>[ExpectShape]</c> while the parser walks the class's attributes,
    /// then checks them against the built graph. Memory is measured with the emitter's own
    /// <see cref="MemoryPlan"/>, so the number in the diagnostic is what the generated Forward allocates.
    /// </summary>
    internal sealed class Budgets
    {
        private const string AttributeNamespace = "PruneGen";

        private readonly string _network;
        private readonly List<(ShapeExpectation Expectation, LocationInfo Location)> _shapes = new();
        private (long Limit, LocationInfo Location)? _macs;
        private (long Limit, LocationInfo Location)? _parameters;
        private (long Limit, int Batch, LocationInfo Location)? _memory;

        public Budgets(string network) => _network = network;

        /// <summary>What is wrong with the budget attributes (arguments out of range) and, after <see cref="Check"/>, every violation.</summary>
        public List<DiagnosticInfo> Diagnostics { get; } = new();

        /// <summary>Whether <paramref name="type"/> is one of the budget or shape-check attributes.</summary>
        public static bool IsBudgetAttribute(INamedTypeSymbol type) =>
            type.Name is "MaxMacsAttribute" or "MaxParametersAttribute" or "MaxActivationMemoryAttribute" or "ExpectShapeAttribute"
            && type.ContainingNamespace.ToDisplayString() == AttributeNamespace;

        /// <summary>The values read so far, for the spec.</summary>
        public NetworkBudgets ToModel() => new(
            _macs?.Limit,
            _parameters?.Limit,
            _memory?.Limit,
            _memory?.Batch ?? 1,
            new EquatableArray<ShapeExpectation>(_shapes.Select(s => s.Expectation).ToArray()));

        /// <summary>Reads one budget attribute; an argument out of range is reported (PG0015) and the attribute ignored.</summary>
        public void Add(AttributeData attribute, LocationInfo location)
        {
            var args = attribute.ConstructorArguments;
            long Long(int i) => args.Length > i && args[i].Value is long v ? v : 0;
            int Int(int i) => args.Length > i && args[i].Value is int v ? v : 0;
            void Invalid(string message) => Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InvalidArgument, message, location));

            switch (attribute.AttributeClass!.Name)
            {
                case "MaxMacsAttribute":
                    if (Long(0) < 1)
                    {
                        Invalid($"[MaxMacs({N(Long(0))})] on network '{_network}' allows no work at all; give the most multiply-accumulates per sample it may take (at least 1), or remove the attribute.");
                        return;
                    }

                    _macs = (Long(0), location);
                    return;

                case "MaxParametersAttribute":
                    if (Long(0) < 1)
                    {
                        Invalid($"[MaxParameters({N(Long(0))})] on network '{_network}' allows no parameters at all; give the most trainable parameters it may have (at least 1), or remove the attribute.");
                        return;
                    }

                    _parameters = (Long(0), location);
                    return;

                case "MaxActivationMemoryAttribute":
                    {
                        var batch = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Batch").Value.Value is int b ? b : 1;
                        if (Long(0) < 1 || batch < 1)
                        {
                            Invalid($"[MaxActivationMemory({N(Long(0))}, Batch = {batch})] on network '{_network}' is out of range; give the most bytes the Forward workspace may take (at least 1) and a batch of at least 1.");
                            return;
                        }

                        _memory = (Long(0), batch, location);
                        return;
                    }

                default:
                    {
                        var layer = args.Length > 0 && args[0].Value is string s ? s : string.Empty;
                        var expectation = new ShapeExpectation(layer, Int(1), Int(2), Int(3));
                        if (expectation.Channels < 1 || (args.Length > 2 && (expectation.Height < 1 || expectation.Width < 1)))
                        {
                            Invalid($"{Attribute(expectation)} on network '{_network}' expects a dimension below 1; every expected dimension must be at least 1.");
                            return;
                        }

                        _shapes.Add((expectation, location));
                        return;
                    }
            }
        }

        /// <summary>Checks every budget and expectation against <paramref name="graph"/> and reports each violation at its attribute.</summary>
        public void Check(NetworkGraph graph)
        {
            if (_macs is { } macs && graph.TotalMacs > macs.Limit)
            {
                Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.MacsBudgetExceeded,
                    $"{_network} has {N(graph.TotalMacs)} MACs per sample, above its [MaxMacs({N(macs.Limit)})] budget by {Over(graph.TotalMacs, macs.Limit)}; prune it or raise the budget.",
                    macs.Location));
            }

            if (_parameters is { } parameters && graph.TotalParameters > parameters.Limit)
            {
                Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.ParameterBudgetExceeded,
                    $"{_network} has {N(graph.TotalParameters)} trainable parameters, above its [MaxParameters({N(parameters.Limit)})] budget by {Over(graph.TotalParameters, parameters.Limit)}; prune it or raise the budget.",
                    parameters.Location));
            }

            if (_memory is { } memory)
            {
                var plan = MemoryPlan.Inference(graph);
                var bytes = plan.Bytes(memory.Batch, threads: 1);
                if (bytes > memory.Limit)
                {
                    var scratch = plan.Bytes(0, threads: 1);
                    Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.ActivationMemoryBudgetExceeded,
                        $"{_network}'s Forward needs {N(bytes)} bytes of workspace at batch {memory.Batch} ({N(bytes - scratch)} for layer outputs + {N(scratch)} of im2col scratch for one kernel thread; each further thread adds {N(scratch)}), above its [MaxActivationMemory({N(memory.Limit)}, Batch = {memory.Batch})] budget by {Over(bytes, memory.Limit)}; prune it, lower the batch or raise the budget.",
                        memory.Location));
                }
            }

            foreach (var (expected, location) in _shapes)
            {
                var shape = expected.Layer == NetworkBuilder.InputName ? graph.InputShape : graph.Find(expected.Layer)?.OutputShape;
                if (shape is not { } actual)
                {
                    Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.ExpectShapeUnknownLayer,
                        $"{Attribute(expected)} names layer '{expected.Layer}', which network '{_network}' does not have; name one of its layers: {string.Join(", ", graph.Layers.Select(l => l.Name))}.",
                        location));
                    continue;
                }

                if (actual.Channels != expected.Channels || (expected.HasSpatial && (actual.Height != expected.Height || actual.Width != expected.Width)))
                {
                    Diagnostics.Add(new DiagnosticInfo(DiagnosticIds.ShapeMismatch,
                        $"Layer '{expected.Layer}' of {_network} produces {Describe(actual)}, but {Attribute(expected)} expects {(expected.HasSpatial ? expected.ToString() : $"{expected.Channels} {(actual.Flat ? "features" : "channels")}")}; fix the layers that lead to it or the expectation.",
                        location));
                }
            }
        }

        private static string Describe(TensorShape shape) => shape.Flat ? $"{shape.Channels} features" : shape.ToString();

        private static string Attribute(ShapeExpectation e) => e.HasSpatial
            ? $"[ExpectShape(\"{e.Layer}\", {e.Channels}, {e.Height}, {e.Width})]"
            : $"[ExpectShape(\"{e.Layer}\", {e.Channels})]";

        private static string Over(long actual, long limit)
        {
            var percent = (actual - limit) * 100.0 / limit;
            return percent < 0.05 ? "less than 0.1 %" : percent.ToString("0.0", CultureInfo.InvariantCulture) + " %";
        }

        internal static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
