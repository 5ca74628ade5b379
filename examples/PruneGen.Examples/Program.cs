using PruneGen.Examples;
using Spectre.Console.Cli;

// The README's main job: train a reference network on Fashion-MNIST with the generated forward and
// backward passes, show progress, report test accuracy and save the checkpoint and an ONNX export.
var app = new CommandApp<TrainCommand>();
app.Configure(config => config.SetApplicationName("prunegen-examples"));
return app.Run(args);
