using PruneGen;

namespace PruneGen.Examples.Networks;

// The unpruned base is deployable the same way, for comparisons: its LoadEmbedded() finds weights only in a
// build with -p:BaseWeights=path/to/vgg.safetensors (otherwise it throws, naming the missing resource).
[EmbeddedWeights("VggNet.safetensors")]
public partial class VggNet;
