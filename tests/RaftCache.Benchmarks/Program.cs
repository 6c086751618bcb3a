using BenchmarkDotNet.Running;

namespace RaftCache.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher picks benchmarks by <c>--filter</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks named on the command line.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
