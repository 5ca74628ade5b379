using System;
using System.Collections.Generic;
using System.Text;

namespace PruneGen.Model;

/// <summary>
/// Turns a <see cref="NetworkDeclaration"/> into a shaped <see cref="NetworkGraph"/>, or into the list
/// of what is wrong with it. This is the one shape / cost / naming engine of PruneGen: the generator
/// compiles this file to check declarations and emit code, the runtime compiles the same file to
/// rebuild the graph the generated code describes, so the two can never disagree.
/// </summary>
public static class NetworkBuilder
{
    /// <summary>The name that refers to the network input in <c>Input</c> / <c>Add</c> / <c>Concat</c>.</summary>
    public const string InputName = "input";

    /// <summary>
    /// Identifiers a layer may not map to: the generated <c>Layers.{Layer}</c> classes hold constants
    /// with these names, and a nested class cannot share a name with its members or container.
    /// </summary>
    private static readonly HashSet<string> ReservedIdentifiers = new(StringComparer.Ordinal)
    {
        "Layers", "Name", "Index", "Channels", "Height", "Width", "Size", "Macs", "Parameters",
    };

    /// <summary>BatchNorm's ε (PyTorch's default, so weights and ONNX exports agree).</summary>
    public const float BatchNormEpsilon = 1e-5f;

    /// <summary>Builds the graph of <paramref name="declaration"/>.</summary>
    public static BuildResult Build(NetworkDeclaration declaration) => Build(declaration, null);

    /// <summary>
    /// Builds the graph of <paramref name="declaration"/> with <paramref name="overrides"/> applied: the
    /// pruned network. After macro expansion, each convolution (not depthwise) or dense layer named in
    /// <see cref="NetworkOverrides.Channels"/> produces that many channels or units, and every layer
    /// downstream (BatchNorm, pooling, flatten → dense inputs, adds, concat offsets, depthwise groups)
    /// reshapes with it, so parameter shapes and MACs follow. Each residual block keeps the shortcut it
    /// has in the base network (a projection exists iff it exists there); a block named in
    /// <see cref="NetworkOverrides.RemovedBlocks"/> is skipped, and whatever read its output reads its
    /// input instead; so is a layer named in <see cref="NetworkOverrides.RemovedLayers"/>, with the
    /// BatchNorm / activation chain <see cref="Pruning.RemovableLayers"/> removes with it. Every <see cref="LayerNode.BaseChannels"/> is the layer's width in the base network.
    /// Errors in the overrides have <see cref="GraphError.DeclarationIndex"/> −1 (they belong to no attribute).
    /// </summary>
    /// <param name="declaration">The base network as declared.</param>
    /// <param name="overrides">How the pruned network differs from it; null or empty for the base network.</param>
    public static BuildResult Build(NetworkDeclaration declaration, NetworkOverrides? overrides)
    {
        if (overrides is null || overrides.IsEmpty)
        {
            return Finish(declaration, new State(declaration, null, null));
        }

        // The base network decides which blocks have a projection and what "un-pruned" means.
        var baseResult = Build(declaration, null);
        if (baseResult.Graph is null)
        {
            return baseResult;
        }

        var state = new State(declaration, overrides, baseResult.Graph);
        var result = Finish(declaration, state);
        if (result.Graph is null)
        {
            return result;
        }

        var nodes = new LayerNode[result.Graph.Layers.Count];
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = result.Graph.Layers[i];
            nodes[i] = baseResult.Graph.Find(node.Name) is { } b && b.OutputShape.Channels != node.OutputShape.Channels
                ? node with { BaseChannels = b.OutputShape.Channels }
                : node;
        }

        return result with { Graph = result.Graph with { Layers = new EquatableArray<LayerNode>(nodes), Overrides = overrides } };
    }

    private static BuildResult Finish(NetworkDeclaration declaration, State state)
    {
        state.Run();
        var errors = new EquatableArray<GraphError>(state.Errors.ToArray());
        if (state.Errors.Count > 0)
        {
            return new BuildResult(null, errors);
        }

        var graph = new NetworkGraph(declaration.Name, state.InputShape, new EquatableArray<LayerNode>(state.Nodes.ToArray())) { Declaration = declaration };
        return new BuildResult(graph, errors);
    }

    /// <summary>Builds the graph and throws if the declaration is invalid (for the runtime, where the generator already validated it).</summary>
    public static NetworkGraph BuildOrThrow(NetworkDeclaration declaration) => BuildOrThrow(declaration, null);

    /// <summary>
    /// Builds the graph with <paramref name="overrides"/> applied (see <see cref="Build(NetworkDeclaration, NetworkOverrides?)"/>)
    /// and throws <see cref="InvalidOperationException"/> listing every error if the declaration or the overrides are invalid.
    /// </summary>
    public static NetworkGraph BuildOrThrow(NetworkDeclaration declaration, NetworkOverrides? overrides)
    {
        var result = Build(declaration, overrides);
        if (result.Graph is null)
        {
            var sb = new StringBuilder();
            sb.Append("Network '").Append(declaration.Name).Append(overrides is null || overrides.IsEmpty ? "' is invalid:" : "' with these overrides is invalid:");
            foreach (var e in result.Errors)
            {
                sb.Append(' ').Append(e.Id).Append(": ").Append(e.Message);
            }

            throw new InvalidOperationException(sb.ToString());
        }

        return result.Graph;
    }

    /// <summary>The PascalCase C# identifier for a layer name: <c>s2b1.conv1</c> → <c>S2b1Conv1</c>.</summary>
    public static string ToIdentifier(string name)
    {
        var sb = new StringBuilder();
        var upper = true;
        foreach (var ch in name)
        {
            if (char.IsLetterOrDigit(ch))
            {
                sb.Append(upper ? char.ToUpperInvariant(ch) : ch);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        if (sb.Length == 0 || char.IsDigit(sb[0]))
        {
            sb.Insert(0, 'L');
        }

        return sb.ToString();
    }

    /// <summary>The PascalCase suffix of a parameter name: <c>running_mean</c> → <c>RunningMean</c>.</summary>
    public static string ParameterSuffix(string parameterName) => ToIdentifier(parameterName.Substring(parameterName.LastIndexOf('.') + 1));

    private static bool IsValidName(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var ch in name)
        {
            if (!(char.IsLetterOrDigit(ch) || ch is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Suffix(LayerKind kind) => kind switch
    {
        LayerKind.ReLU => "relu",
        LayerKind.LeakyReLU => "leaky_relu",
        LayerKind.Sigmoid => "sigmoid",
        LayerKind.Tanh => "tanh",
        LayerKind.MaxPool2D => "maxpool",
        LayerKind.AvgPool2D => "avgpool",
        LayerKind.GlobalAvgPool => "gap",
        LayerKind.Flatten => "flatten",
        LayerKind.Dropout => "dropout",
        LayerKind.Softmax => "softmax",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private sealed class State
    {
        private readonly NetworkDeclaration _declaration;
        private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _identifiers = new(StringComparer.Ordinal);
        private readonly HashSet<int> _poisoned = new();
        private readonly Dictionary<string, int> _autoCounters = new(StringComparer.Ordinal);
        private readonly NetworkOverrides? _overrides;
        private readonly NetworkGraph? _base;
        private readonly Dictionary<string, int> _channels = new(StringComparer.Ordinal);
        private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
        private readonly HashSet<string> _removedMembers = new(StringComparer.Ordinal);
        private int _previous = -1;

        /// <param name="declaration">The network as declared.</param>
        /// <param name="overrides">Pruning overrides, or null for the base network.</param>
        /// <param name="baseGraph">The base network's graph (required with overrides): its shortcuts and widths are the reference.</param>
        public State(NetworkDeclaration declaration, NetworkOverrides? overrides, NetworkGraph? baseGraph)
        {
            _declaration = declaration;
            _overrides = overrides;
            _base = baseGraph;
            InputShape = new TensorShape(declaration.InputChannels, declaration.InputHeight, declaration.InputWidth, declaration.FlatInput);
        }

        public List<GraphError> Errors { get; } = new();

        public List<LayerNode> Nodes { get; } = new();

        public TensorShape InputShape { get; }

        public void Run()
        {
            var d = _declaration;
            if (d.InputChannels <= 0 || d.InputHeight <= 0 || d.InputWidth <= 0)
            {
                Errors.Add(new GraphError(DiagnosticIds.NonPositiveSize, -1,
                    $"Network '{d.Name}' has input shape {d.InputChannels}×{d.InputHeight}×{d.InputWidth}; every input dimension must be at least 1. Declare [Network(channels, height, width)], or [Network(length)] for a flat input."));
                return;
            }

            if (d.Layers.Count == 0)
            {
                Errors.Add(new GraphError(DiagnosticIds.EmptyNetwork, -1,
                    $"Network '{d.Name}' declares no layers. Add layer attributes after [Network], e.g. [Dense(\"fc1\", 128)]."));
                return;
            }

            if (_overrides is not null && !CheckOverrides(_overrides))
            {
                return;
            }

            foreach (var layer in d.Layers)
            {
                if (layer.Kind == LayerKind.ResidualBlock && _removed.Contains(layer.Name))
                {
                    RemoveResidualBlock(layer);
                }
                else if (layer.Kind == LayerKind.ResidualBlock)
                {
                    AddResidualBlock(layer);
                }
                else
                {
                    AddLayer(layer, block: null);
                }
            }

            if (Nodes.Count == 0 && (_removed.Count > 0 || _removedMembers.Count > 0))
            {
                Errors.Add(new GraphError(DiagnosticIds.EmptyNetwork, -1,
                    $"Network '{d.Name}' has no layers left once its removed blocks and layers are skipped; keep at least one layer."));
            }
        }

        /// <summary>
        /// Checks the overrides against the base network and indexes them. A channel override must name a
        /// convolution (not depthwise) or dense layer of the base network, outside any removed block, with
        /// between 1 and its declared width; a removed block must be a residual block with an identity shortcut.
        /// </summary>
        private bool CheckOverrides(NetworkOverrides overrides)
        {
            var g = _base!;
            var network = _declaration.Name;
            var before = Errors.Count;
            void Fail(string id, string message) => Errors.Add(new GraphError(id, -1, message));

            var blocks = new List<string>();
            foreach (var l in _declaration.Layers)
            {
                if (l.Kind == LayerKind.ResidualBlock)
                {
                    blocks.Add(l.Name);
                }
            }

            foreach (var b in overrides.RemovedBlocks)
            {
                if (!blocks.Contains(b))
                {
                    Fail(DiagnosticIds.RemovedBlockUnknown, blocks.Count == 0
                        ? $"Network '{network}' has no residual blocks, so block '{b}' cannot be removed; remove it from the removed blocks."
                        : $"Removed block '{b}' is not a residual block of network '{network}' (its blocks are {string.Join(", ", blocks)}); name one of them or drop it from the removed blocks.");
                }
                else if (g.Find($"{b}.proj") is { } proj && proj.Block == b)
                {
                    Fail(DiagnosticIds.RemovedBlockHasProjection, $"Residual block '{b}' of network '{network}' has a projection shortcut (it changes the stride or the channels), so removing it would change the shape its successors read; keep the block (prune its channels instead) or remove only blocks with an identity shortcut.");
                }
                else if (!_removed.Add(b))
                {
                    Fail(DiagnosticIds.InvalidArgument, $"Residual block '{b}' is listed twice in the removed blocks of network '{network}'; list it once.");
                }
            }

            if (overrides.RemovedLayers.Count > 0)
            {
                var removable = Pruning.RemovableLayers.Analyze(g);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var name in overrides.RemovedLayers)
                {
                    Pruning.RemovableLayerInfo? info = null;
                    foreach (var r in removable)
                    {
                        info = r.Name == name ? r : info;
                    }

                    if (info is null)
                    {
                        var candidates = new List<string>();
                        foreach (var r in removable)
                        {
                            if (r.Removable)
                            {
                                candidates.Add(r.Name);
                            }
                        }

                        var which = candidates.Count == 0 ? "it has none that can be" : "the removable ones are " + string.Join(", ", candidates);
                        Fail(DiagnosticIds.RemovedLayerInvalid, $"Removed layer '{name}' is not a convolution or dense layer outside the residual blocks of network '{network}' ({which}); name one of those (remove residual blocks as blocks) or drop it from the removed layers.");
                    }
                    else if (!seen.Add(name))
                    {
                        Fail(DiagnosticIds.InvalidArgument, $"Layer '{name}' is listed twice in the removed layers of network '{network}'; list it once.");
                    }
                    else if (!info.Removable)
                    {
                        Fail(DiagnosticIds.RemovedLayerInvalid, $"Layer '{name}' of network '{network}' cannot be removed: {info.UnremovableReason}. Prune its channels instead.");
                    }
                    else
                    {
                        foreach (var m in info.Members)
                        {
                            _removedMembers.Add(m);
                        }
                    }
                }
            }

            foreach (var o in overrides.Channels)
            {
                var node = g.Find(o.Layer);
                if (node is null || node.Block is { } owner && _removed.Contains(owner) || _removedMembers.Contains(o.Layer))
                {
                    Fail(DiagnosticIds.OverrideUnknownLayer, node is null
                        ? $"Channel override names layer '{o.Layer}', which is not a layer of network '{network}'; use an expanded layer name from its graph (e.g. a residual block's '{{block}}.conv1') or drop the override."
                        : node.Block is { } b && _removed.Contains(b)
                            ? $"Channel override names layer '{o.Layer}', which belongs to residual block '{node.Block}', removed from network '{network}'; drop the override or keep the block."
                            : $"Channel override names layer '{o.Layer}', which is removed from network '{network}'; drop the override or keep the layer.");
                    continue;
                }

                var depthwise = false;
                foreach (var l in _declaration.Layers)
                {
                    depthwise |= l.Name == o.Layer && l.Kind == LayerKind.DepthwiseConv2D;
                }

                if (node.Kind is not (LayerKind.Conv2D or LayerKind.Dense) || depthwise)
                {
                    Fail(DiagnosticIds.OverrideNotPrunable, depthwise
                        ? $"Channel override names depthwise convolution '{o.Layer}' of network '{network}'; its channels follow its input's, so override the layer that produces its input instead."
                        : $"Channel override names {node.Kind} layer '{o.Layer}' of network '{network}'; only Conv2D and Dense layers set their own width (the others follow their input), so override the convolution or dense layer that produces its input instead.");
                    continue;
                }

                var size = node.OutputShape.Channels;
                var unit = node.Kind == LayerKind.Dense ? "units" : "output channels";
                if (o.Channels < 1 || o.Channels > size)
                {
                    Fail(DiagnosticIds.OverrideChannelsOutOfRange, $"Channel override gives {node.Kind} layer '{o.Layer}' of network '{network}' {o.Channels} {unit}; it declares {size}, so keep between 1 and {size}.");
                    continue;
                }

                if (_channels.ContainsKey(o.Layer))
                {
                    Fail(DiagnosticIds.InvalidArgument, $"Layer '{o.Layer}' has more than one channel override in network '{network}'; give it one.");
                    continue;
                }

                _channels.Add(o.Layer, o.Channels);
            }

            return Errors.Count == before;
        }

        /// <summary>A removed residual block: its output name (<c>{block}.relu</c>) and the layers after it read the block's input.</summary>
        private void RemoveResidualBlock(LayerDeclaration block)
        {
            var input = block.Inputs.Count > 0 ? block.Inputs[0] : PreviousName;
            var inputIndex = -1;
            if (input != InputName)
            {
                // The base network built, so the input resolves (possibly to a removed block's input).
                inputIndex = _byName[input];
            }

            _byName[$"{block.Name}.relu"] = inputIndex;
            _previous = inputIndex;
        }

        /// <summary>The output width a convolution or dense layer produces: its override, else <paramref name="declared"/>.</summary>
        private int Width(string name, int declared)
        {
            return _channels.TryGetValue(name, out var channels) ? channels : declared;
        }

        /// <summary>
        /// A name for an unnamed (parameter-free) layer: its kind and a per-kind counter, e.g. <c>relu3</c>,
        /// skipping names already taken. Only parameter-free layers may be unnamed, so the names that
        /// key weights and plans are always the user's own.
        /// </summary>
        private string AutoName(LayerKind kind)
        {
            var prefix = Suffix(kind);
            _autoCounters.TryGetValue(prefix, out var n);
            string name;
            do
            {
                n++;
                name = prefix + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            while (_byName.ContainsKey(name));

            _autoCounters[prefix] = n;
            return name;
        }

        private string PreviousName => _previous < 0 ? InputName : Nodes[_previous].Name;

        private void Error(string id, LayerDeclaration layer, string message) =>
            Errors.Add(new GraphError(id, layer.DeclarationIndex, message));

        /// <summary>Expands a residual block macro into primitive layers (shortcut projection only where shapes need it).</summary>
        private void AddResidualBlock(LayerDeclaration block)
        {
            var b = block.Name;
            if (!CheckName(block, b))
            {
                return;
            }

            var input = block.Inputs.Count > 0 ? block.Inputs[0] : PreviousName;
            var inputIndex = -1;
            if (input != InputName && !_byName.TryGetValue(input, out inputIndex))
            {
                Error(DiagnosticIds.UnknownLayer, block, $"Residual block '{b}' reads '{input}', which is not declared before it. Name a layer declared earlier, or '{InputName}'.");
                AddPoisoned($"{b}.relu", block);
                return;
            }

            var inShape = inputIndex < 0 ? InputShape : Nodes[inputIndex].OutputShape;
            if (!_poisoned.Contains(inputIndex) && inShape.Flat)
            {
                Error(DiagnosticIds.InvalidSequence, block, $"Residual block '{b}' cannot read the flat vector ({inShape}) produced by '{input}'; residual blocks need a C×H×W input. Move the block before [Flatten] / [Dense].");
                AddPoisoned($"{b}.relu", block);
                return;
            }

            var stride = block.Stride == 0 ? 1 : block.Stride;
            if (block.Size <= 0 || stride <= 0)
            {
                Error(DiagnosticIds.NonPositiveSize, block, $"Residual block '{b}' has channels {block.Size} and stride {stride}; both must be at least 1.");
                AddPoisoned($"{b}.relu", block);
                return;
            }

            var idx = block.DeclarationIndex;
            LayerDeclaration Prim(string suffix, LayerKind kind, string[] inputs, int size = 0, int kernel = 0, int s = 0, int pad = 0) =>
                new($"{b}.{suffix}", kind, new EquatableArray<string>(inputs), size, kernel, s, pad, 1, false, 0, idx);

            var none = Array.Empty<string>();
            AddLayer(Prim("conv1", LayerKind.Conv2D, new[] { input }, block.Size, 3, stride, 1), b);
            AddLayer(Prim("bn1", LayerKind.BatchNorm, none), b);
            AddLayer(Prim("relu1", LayerKind.ReLU, none), b);
            AddLayer(Prim("conv2", LayerKind.Conv2D, none, block.Size, 3, 1, 1), b);
            AddLayer(Prim("bn2", LayerKind.BatchNorm, none), b);
            var shortcut = input;

            // With overrides, the base network decides: pruning never adds or drops a projection.
            var projection = _base is null ? stride != 1 || inShape.Channels != block.Size : _base.Find($"{b}.proj") is { } proj && proj.Block == b;
            if (projection)
            {
                AddLayer(Prim("proj", LayerKind.Conv2D, new[] { input }, block.Size, 1, stride, 0), b);
                AddLayer(Prim("proj_bn", LayerKind.BatchNorm, none), b);
                shortcut = $"{b}.proj_bn";
            }

            AddLayer(Prim("add", LayerKind.Add, new[] { $"{b}.bn2", shortcut }), b);
            AddLayer(Prim("relu", LayerKind.ReLU, none), b);
        }

        /// <summary>Registers a layer whose shape is unknown because of an earlier error, so that later layers reading it are skipped instead of reported again.</summary>
        private void AddPoisoned(string name, LayerDeclaration layer)
        {
            if (_byName.ContainsKey(name))
            {
                return;
            }

            var index = Nodes.Count;
            _byName[name] = index;
            _poisoned.Add(index);
            _previous = index;
            Nodes.Add(new LayerNode(index, name, ToIdentifier(name), layer.Kind, EquatableArray<int>.Empty, InputShape, InputShape, 0, 0, 0, 1, false, 0, 0, EquatableArray<ParameterSpec>.Empty, null, layer.DeclarationIndex));
        }

        private bool CheckName(LayerDeclaration layer, string name)
        {
            if (!IsValidName(name))
            {
                Error(DiagnosticIds.InvalidName, layer, $"Layer name '{name}' is not valid: use a letter or '_' first, then letters, digits, '_', '.' or '-'.");
                return false;
            }

            if (name == InputName || _byName.ContainsKey(name))
            {
                Error(DiagnosticIds.DuplicateName, layer, name == InputName
                    ? $"Layer name '{InputName}' is reserved for the network input; rename the layer."
                    : $"Layer name '{name}' is already used by an earlier layer; give each layer a unique name.");
                return false;
            }

            return true;
        }

        private bool ClaimIdentifier(LayerDeclaration layer, string name, string identifier)
        {
            if (ReservedIdentifiers.Contains(identifier))
            {
                Error(DiagnosticIds.IdentifierCollision, layer, $"Layer '{name}' would generate the class '{identifier}', a name PruneGen already uses in generated code; rename the layer.");
                return false;
            }

            if (_identifiers.TryGetValue(identifier, out var other))
            {
                Error(DiagnosticIds.IdentifierCollision, layer, $"Layer '{name}' and layer '{other}' both generate the C# identifier '{identifier}'; rename one of them.");
                return false;
            }

            _identifiers.Add(identifier, name);
            return true;
        }

        private void AddLayer(LayerDeclaration layer, string? block)
        {
            var name = layer.Name.Length == 0 ? AutoName(layer.Kind) : layer.Name;
            if (_removedMembers.Contains(name))
            {
                // A removed layer is an alias of its input: its readers (the rest of its chain, then the layers
                // after it) read what it read. The base network built, so the input resolves.
                var input = layer.Inputs.Count > 0 ? layer.Inputs[0] : PreviousName;
                var inputIndex = input == InputName ? -1 : _byName[input];
                _byName[name] = inputIndex;
                _previous = inputIndex;
                return;
            }

            if (!CheckName(layer, name))
            {
                return;
            }

            var index = Nodes.Count;
            var identifier = ToIdentifier(name);

            // Resolve inputs: explicit names, else the previous layer. Add and Concat given one name
            // join it with the previous layer.
            var names = new List<string>(layer.Inputs);
            if (names.Count == 0 || (layer.Kind is LayerKind.Add or LayerKind.Concat && names.Count == 1))
            {
                names.Insert(0, PreviousName);
            }

            var inputs = new int[names.Count];
            var poisoned = false;
            for (var i = 0; i < names.Count; i++)
            {
                if (names[i] == InputName)
                {
                    inputs[i] = -1;
                }
                else if (_byName.TryGetValue(names[i], out var j))
                {
                    inputs[i] = j;
                    poisoned |= _poisoned.Contains(j);
                }
                else
                {
                    Error(DiagnosticIds.UnknownLayer, layer, $"Layer '{name}' reads '{names[i]}', which is not a layer declared before it. Name an earlier layer (or '{InputName}' for the network input).");
                    poisoned = true;
                    inputs[i] = -1;
                }
            }

            var shapes = new TensorShape[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                shapes[i] = inputs[i] < 0 ? InputShape : Nodes[inputs[i]].OutputShape;
            }

            TensorShape? output = null;
            var node = default(LayerNode);
            if (!poisoned && ClaimIdentifier(layer, name, identifier))
            {
                node = Shape(layer, name, identifier, index, inputs, names, shapes, block);
                output = node?.OutputShape;
            }

            _byName[name] = index;
            _previous = index;
            if (output is null || node is null)
            {
                _poisoned.Add(index);
                Nodes.Add(new LayerNode(index, name, identifier, layer.Kind, new EquatableArray<int>(inputs), shapes[0], shapes[0], 0, 0, 0, 1, false, 0, 0, EquatableArray<ParameterSpec>.Empty, block, layer.DeclarationIndex));
                return;
            }

            foreach (var p in node.Parameters)
            {
                if (!ClaimIdentifier(layer, name, identifier + ParameterSuffix(p.Name)))
                {
                    _poisoned.Add(index);
                }
            }

            Nodes.Add(node);
        }

        private LayerNode? Shape(LayerDeclaration l, string name, string identifier, int index, int[] inputs, List<string> names, TensorShape[] shapes, string? block)
        {
            var x = shapes[0];
            var from = names[0];
            var parameters = new List<ParameterSpec>();
            long macs = 0;
            int kernel = 0, stride = 0, padding = 0, groups = 1;
            var bias = l.Bias;
            var kind = l.Kind;
            TensorShape output;

            bool NeedSpatial()
            {
                if (!x.Flat)
                {
                    return true;
                }

                Error(DiagnosticIds.InvalidSequence, l, $"{kind} layer '{name}' cannot read the flat vector ({x}) produced by '{from}'; it needs a C×H×W input. Move it before [Flatten] / [Dense] / [GlobalAvgPool].");
                return false;
            }

            bool Window(int k, int s, int p, string what)
            {
                if (k <= 0 || s <= 0 || p < 0)
                {
                    Error(DiagnosticIds.NonPositiveSize, l, $"{kind} layer '{name}' has {what} {k}, stride {s}, padding {p}; {what} and stride must be at least 1 and padding at least 0.");
                    return false;
                }

                if (k <= x.Height + (2 * p) && k <= x.Width + (2 * p))
                {
                    return true;
                }

                var shrunk = x.Height < InputShape.Height || x.Width < InputShape.Width;
                if (shrunk)
                {
                    Error(DiagnosticIds.SpatialCollapse, l, $"{kind} layer '{name}': the spatial size has shrunk to {x.Height}×{x.Width} by '{from}', so its {k}×{k} {what} leaves no output. Remove a downsampling layer before it, lower a stride, or add padding.");
                }
                else
                {
                    Error(DiagnosticIds.KernelTooLarge, l, $"{kind} layer '{name}': {what} {k}×{k} is larger than its padded input {x.Height + (2 * p)}×{x.Width + (2 * p)}. Use a {what} of at most {Math.Min(x.Height, x.Width) + (2 * p)} or more padding.");
                }

                return false;
            }

            TensorShape Out(int channels, int k, int s, int p) =>
                new(channels, ((x.Height + (2 * p) - k) / s) + 1, ((x.Width + (2 * p) - k) / s) + 1, false);

            switch (kind)
            {
                case LayerKind.Dense:
                    if (l.Size <= 0)
                    {
                        Error(DiagnosticIds.NonPositiveSize, l, $"Dense layer '{name}' has {l.Size} units; a dense layer needs at least 1.");
                        return null;
                    }

                    if (!x.Flat)
                    {
                        Error(DiagnosticIds.InvalidSequence, l, $"Dense layer '{name}' cannot read the C×H×W tensor {x} produced by '{from}'; insert [Flatten] or [GlobalAvgPool] before it.");
                        return null;
                    }

                    var units = Width(name, l.Size);
                    output = new TensorShape(units, 1, 1, true);
                    macs = (long)x.Size * units;
                    parameters.Add(Param(name, "weight", true, units, x.Size));
                    if (bias)
                    {
                        parameters.Add(Param(name, "bias", true, units));
                    }

                    break;

                case LayerKind.Conv2D:
                case LayerKind.DepthwiseConv2D:
                    {
                        if (!NeedSpatial())
                        {
                            return null;
                        }

                        var depthwise = kind == LayerKind.DepthwiseConv2D;
                        var multiplier = depthwise ? (l.Size == 0 ? 1 : l.Size) : 0;
                        var outChannels = depthwise ? x.Channels * multiplier : Width(name, l.Size);
                        // A channel-wise convolution written as Conv2D (Groups = Size) keeps one filter per group when
                        // pruned: its group count follows its (overridden) width.
                        groups = depthwise ? x.Channels : l.Groups > 1 && l.Groups == l.Size ? outChannels : l.Groups;
                        kernel = l.Kernel;
                        stride = l.Stride == 0 ? 1 : l.Stride;
                        padding = l.Padding;
                        if (outChannels <= 0 || groups <= 0)
                        {
                            Error(DiagnosticIds.NonPositiveSize, l, depthwise
                                ? $"DepthwiseConv2D layer '{name}' has channel multiplier {multiplier}; it must be at least 1."
                                : $"Conv2D layer '{name}' has {l.Size} output channels and {groups} groups; both must be at least 1.");
                            return null;
                        }

                        if (!Window(kernel, stride, padding, "kernel"))
                        {
                            return null;
                        }

                        if (x.Channels % groups != 0 || outChannels % groups != 0)
                        {
                            Error(DiagnosticIds.GroupsMismatch, l, $"Conv2D layer '{name}' has {groups} groups, which must divide both its {x.Channels} input channels (from '{from}') and its {outChannels} output channels. Choose a group count that divides both.");
                            return null;
                        }

                        kind = LayerKind.Conv2D;
                        output = Out(outChannels, kernel, stride, padding);
                        macs = (long)output.Size * (x.Channels / groups) * kernel * kernel;
                        parameters.Add(Param(name, "weight", true, outChannels, x.Channels / groups, kernel, kernel));
                        if (bias)
                        {
                            parameters.Add(Param(name, "bias", true, outChannels));
                        }

                        break;
                    }

                case LayerKind.BatchNorm:
                    output = x;
                    bias = false;
                    parameters.Add(Param(name, "weight", true, x.Channels));
                    parameters.Add(Param(name, "bias", true, x.Channels));
                    parameters.Add(Param(name, "running_mean", false, x.Channels));
                    parameters.Add(Param(name, "running_var", false, x.Channels));
                    break;

                case LayerKind.ReLU:
                case LayerKind.Sigmoid:
                case LayerKind.Tanh:
                case LayerKind.LeakyReLU:
                    if (kind == LayerKind.LeakyReLU && !(l.Alpha >= 0 && l.Alpha < 1))
                    {
                        Error(DiagnosticIds.InvalidArgument, l, $"LeakyReLU layer '{name}' has slope {l.Alpha}; use a slope in [0, 1), e.g. 0.01.");
                        return null;
                    }

                    output = x;
                    break;

                case LayerKind.Dropout:
                    if (!(l.Alpha >= 0 && l.Alpha < 1))
                    {
                        Error(DiagnosticIds.InvalidArgument, l, $"Dropout layer '{name}' has rate {l.Alpha}; use a rate in [0, 1).");
                        return null;
                    }

                    output = x;
                    break;

                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    if (!NeedSpatial())
                    {
                        return null;
                    }

                    kernel = l.Kernel;
                    stride = l.Stride == 0 ? l.Kernel : l.Stride;
                    padding = l.Padding;
                    if (!Window(kernel, stride, padding, "window"))
                    {
                        return null;
                    }

                    if (padding * 2 > kernel)
                    {
                        Error(DiagnosticIds.InvalidArgument, l, $"{kind} layer '{name}' has padding {padding} for a {kernel}×{kernel} window; padding may be at most half the window ({kernel / 2}).");
                        return null;
                    }

                    output = Out(x.Channels, kernel, stride, padding);
                    break;

                case LayerKind.GlobalAvgPool:
                    if (!NeedSpatial())
                    {
                        return null;
                    }

                    output = new TensorShape(x.Channels, 1, 1, true);
                    break;

                case LayerKind.Flatten:
                    if (x.Flat)
                    {
                        Error(DiagnosticIds.InvalidSequence, l, $"Flatten layer '{name}' reads '{from}', whose output ({x}) is already flat; remove the [Flatten].");
                        return null;
                    }

                    output = new TensorShape(x.Size, 1, 1, true);
                    break;

                case LayerKind.Softmax:
                    if (!x.Flat)
                    {
                        Error(DiagnosticIds.InvalidSequence, l, $"Softmax layer '{name}' needs a flat vector but '{from}' produces {x}; insert [Flatten] or [GlobalAvgPool] before it.");
                        return null;
                    }

                    output = x;
                    break;

                case LayerKind.Add:
                    for (var i = 1; i < shapes.Length; i++)
                    {
                        if (shapes[i] != x)
                        {
                            Error(DiagnosticIds.AddShapeMismatch, l, $"Add layer '{name}' joins '{names[0]}' ({x}) and '{names[i]}' ({shapes[i]}); residual branches must have the same shape. Give the shortcut a 1×1 projection (Conv2D with the same channels and stride) or fix the branch.");
                            return null;
                        }
                    }

                    output = x;
                    break;

                case LayerKind.Concat:
                    {
                        var channels = 0;
                        for (var i = 0; i < shapes.Length; i++)
                        {
                            if (shapes[i].Flat != x.Flat || shapes[i].Height != x.Height || shapes[i].Width != x.Width)
                            {
                                Error(DiagnosticIds.ConcatShapeMismatch, l, $"Concat layer '{name}' joins '{names[0]}' ({x}) and '{names[i]}' ({shapes[i]}); concatenated tensors must agree in everything but channels. Resize one branch (pooling or stride) to match.");
                                return null;
                            }

                            channels += shapes[i].Channels;
                        }

                        output = new TensorShape(channels, x.Height, x.Width, x.Flat);
                        break;
                    }

                default:
                    Error(DiagnosticIds.InvalidSequence, l, $"Layer '{name}' has kind {kind}, which cannot appear here.");
                    return null;
            }

            return new LayerNode(index, name, identifier, kind, new EquatableArray<int>(inputs), x, output, kernel, stride, padding, groups, bias, l.Alpha, macs,
                new EquatableArray<ParameterSpec>(parameters.ToArray()), block, l.DeclarationIndex);
        }

        private static ParameterSpec Param(string layer, string suffix, bool trainable, params int[] shape) =>
            new($"{layer}.{suffix}", new EquatableArray<int>(shape), trainable);
    }
}
