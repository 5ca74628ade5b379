System.Console.WriteLine(PruneGen.Examples.Networks.VggNet.TotalMacs);
System.Console.WriteLine(PruneGen.Examples.Networks.TinyResNet.TotalMacs);
