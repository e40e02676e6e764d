using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project bench/Pochta.Benchmarks -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(Pochta.Benchmarks.ImapReaderBenchmarks).Assembly).Run(args);