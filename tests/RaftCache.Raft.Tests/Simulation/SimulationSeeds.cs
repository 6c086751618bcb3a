using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>The outcomes of a seed set and their summed counters.</summary>
internal sealed record SeedSetReport(SimulationScenario Scenario, IReadOnlyList<SimulationOutcome> Outcomes, SimulationCounters Totals, bool IsSingleSeed)
{
    public IReadOnlyList<SimulationOutcome> Failures => [.. Outcomes.Where(o => !o.Passed)];

    public string DescribeFailures(int detailed = 3)
    {
        var failures = Failures;
        var text = new StringBuilder();
        text.AppendLine($"{failures.Count} of {Outcomes.Count} seeds of scenario '{Scenario.Name}' failed: {string.Join(", ", failures.Select(f => f.Seed))}");
        foreach (var failure in failures.Take(100))
        {
            var line = failure.Failure!;
            var end = line.IndexOf('\n', StringComparison.Ordinal);
            text.AppendLine($"  seed {failure.Seed}: {(end < 0 ? line : line[..end])}");
        }
        foreach (var failure in failures.Take(detailed))
        {
            text.AppendLine();
            text.AppendLine($"seed {failure.Seed}: {failure.Failure}");
            text.AppendLine($"replay: {SimulationSeeds.SeedVariable}={failure.Seed} dotnet test tests/RaftCache.Raft.Tests -c Release --filter \"FullyQualifiedName~{Scenario.TestName}\"");
            text.Append(failure.Trace);
        }

        return text.ToString();
    }
}

/// <summary>
/// Which seeds a simulation test runs. By default a fixed set, sized to keep the suite fast; environment variables
/// run more, or replay exactly one:
/// <c>RAFTCACHE_SIM_SEEDS=5000</c> runs seeds 1..5000 of every scenario; <c>RAFTCACHE_SIM_SEED=1234</c> runs only seed 1234.
/// </summary>
internal static class SimulationSeeds
{
    public const string SeedsVariable = "RAFTCACHE_SIM_SEEDS";
    public const string SeedVariable = "RAFTCACHE_SIM_SEED";

    public static SeedSetReport Run(SimulationScenario scenario, int defaultSeedCount, ITestOutputHelper output, Func<SimulationOutcome, bool>? stopWhen = null)
    {
        var single = Environment.GetEnvironmentVariable(SeedVariable);
        var many = Environment.GetEnvironmentVariable(SeedsVariable);
        IEnumerable<int> seeds = single is { Length: > 0 }
            ? [int.Parse(single, CultureInfo.InvariantCulture)]
            : Enumerable.Range(1, many is { Length: > 0 } ? int.Parse(many, CultureInfo.InvariantCulture) : defaultSeedCount);

        var stopwatch = Stopwatch.StartNew();
        var outcomes = new List<SimulationOutcome>();
        var totals = new SimulationCounters();
        foreach (var seed in seeds)
        {
            var outcome = new SimulationRun(scenario, seed).Execute();
            outcomes.Add(outcome);
            totals.Add(outcome.Counters);
            if (stopWhen?.Invoke(outcome) == true) break;
        }

        output.WriteLine($"scenario '{scenario.Name}': {outcomes.Count} seeds in {stopwatch.Elapsed.TotalSeconds:F1} s, {outcomes.Count(o => !o.Passed)} failed");
        output.WriteLine($"  {totals}");
        if (single is { Length: > 0 }) output.WriteLine($"  seed {outcomes[0].Seed}: plan {outcomes[0].Plan}; fingerprint {outcomes[0].Fingerprint:x16}");
        return new SeedSetReport(scenario, outcomes, totals, single is { Length: > 0 });
    }
}
