using PruneGen.Examples;
using Spectre.Console.Cli;

// The README's main job: train a reference network on Fashion-MNIST with the generated forward and
// backward passes (progress display, test accuracy, checkpoint and ONNX export), then prune it, fine-tune
// the pruned network and write the pruning plan, the pruned weights and a Markdown report with charts.
var app = new CommandApp<TrainCommand>();
app.Configure(config => config.SetApplicationName("prunegen-examples"));
return app.Run(args);
