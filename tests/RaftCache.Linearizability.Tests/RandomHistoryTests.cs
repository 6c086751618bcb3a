using System.Diagnostics;
using Xunit.Abstractions;
using static RaftCache.Linearizability.Tests.Checks;

namespace RaftCache.Linearizability.Tests;

/// <summary>Property-style tests over seeded random histories (see <see cref="RandomHistories"/>).</summary>
public class RandomHistoryTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (var seed = 1; seed <= 40; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    private static RandomHistories.Generated Small(int seed) =>
        RandomHistories.Generate(seed, clients: 2 + seed % 7, operationsPerClient: 20 + seed % 30, keys: 1 + seed % 3);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_random_execution_of_a_real_register_is_linearizable(int seed)
    {
        var history = Small(seed).History;

        var result = Check(history);

        Assert.True(result.IsLinearizable, $"seed {seed}: {result.Explain()}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void The_same_execution_with_one_impossible_read_is_not_linearizable(int seed)
    {
        var (history, mutated) = RandomHistories.MutateOneRead(Small(seed).History, new Random(seed));

        var result = Check(history);

        Assert.True(result.Verdict == Verdict.NotLinearizable, $"seed {seed}, mutated {mutated}: {result.Explain()}");
        Assert.All(result.Keys, k => Assert.Equal(k.Key == mutated.Key ? Verdict.NotLinearizable : Verdict.Linearizable, k.Verdict));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_random_execution_of_a_real_counter_is_linearizable(int seed)
    {
        var history = RandomHistories.GenerateCounter(seed, clients: 2 + seed % 7, operationsPerClient: 20 + seed % 30, unknownRate: 0.1);

        var result = Check(history);

        Assert.True(result.IsLinearizable, $"seed {seed}: {result.Explain()}");
        Assert.Equal(KeyModel.Counter, result["n"].Model);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void The_same_counter_execution_with_a_repeated_or_reordered_result_is_not_linearizable(int seed)
    {
        var generated = RandomHistories.GenerateCounter(seed, clients: 2 + seed % 7, operationsPerClient: 20 + seed % 30, unknownRate: 0.1);
        var (history, mutated) = RandomHistories.MutateCounter(generated, new Random(seed));

        var result = Check(history);

        Assert.True(result.Verdict == Verdict.NotLinearizable, $"seed {seed}, mutated {mutated}: {result.Explain()}");
        Assert.NotEmpty(result["n"].Unplaced);
    }

    [Fact]
    public void Thousands_of_counter_operations_from_many_clients_are_checked_at_once()
    {
        var history = RandomHistories.GenerateCounter(seed: 301, clients: 16, operationsPerClient: 1_000, unknownRate: 0.05);

        var stopwatch = Stopwatch.StartNew();
        var result = Check(history);
        output.WriteLine($"{result["n"].OperationCount} operations, {stopwatch.ElapsedMilliseconds} ms");

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"{stopwatch.ElapsedMilliseconds} ms");
    }

    [Theory]
    [InlineData(101, 12, 0.05)]
    [InlineData(102, 12, 0.05)]
    [InlineData(103, 16, 0.0)]
    public void Thousands_of_operations_on_one_key_from_many_clients_are_checked_within_the_budget(int seed, int clients, double unknownRate)
    {
        var history = RandomHistories.Generate(seed, clients, operationsPerClient: 3_000 / clients, keys: 1, unknownRate).History;

        var stopwatch = Stopwatch.StartNew();
        var result = Check(history);
        output.WriteLine($"{result["k0"].OperationCount} operations, {result["k0"].Steps} steps, {stopwatch.ElapsedMilliseconds} ms");

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.True(result["k0"].OperationCount > 2_500);
    }

    [Theory]
    [InlineData(201)]
    [InlineData(202)]
    public void An_impossible_read_among_thousands_of_operations_is_found_within_the_budget(int seed)
    {
        var generated = RandomHistories.Generate(seed, clients: 12, operationsPerClient: 200, keys: 2);
        var (history, mutated) = RandomHistories.MutateOneRead(generated.History, new Random(seed));

        var stopwatch = Stopwatch.StartNew();
        var result = Check(history);
        output.WriteLine($"{history.Operations.Count} operations, {result[mutated.Key].Steps} steps, {stopwatch.ElapsedMilliseconds} ms");

        Assert.True(result[mutated.Key].Verdict == Verdict.NotLinearizable, $"mutated {mutated}: {result.Explain()}");
    }
}
