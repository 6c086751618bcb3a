namespace RaftCache.Cli.Tests;

public sealed class BenchTallyTests
{
    [Fact]
    public void Throughput_counts_successes_and_misses_but_not_errors()
    {
        var tally = new BenchTally();
        for (var i = 0; i < 1_000; i++) tally.Success();
        for (var i = 0; i < 24; i++) tally.Miss();
        for (var i = 0; i < 18_004; i++) tally.Error(new CacheOverloadedException("busy"));

        Assert.Equal(1_024, tally.Successes);
        Assert.Equal(24, tally.Misses);
        Assert.Equal(18_004, tally.Errors);
        Assert.Equal(19_028, tally.Attempts);
        Assert.Equal(102.4, tally.OpsPerSecond(10), 9);
        Assert.Equal(0, tally.OpsPerSecond(0));
    }

    [Fact]
    public void Errors_are_counted_by_type_most_frequent_first()
    {
        var tally = new BenchTally();
        tally.Error(new TimeoutException());
        tally.Error(new CacheUnavailableException("no quorum"));
        tally.Error(new CacheUnavailableException("no quorum"));

        Assert.Equal(
            [KeyValuePair.Create(nameof(CacheUnavailableException), 2L), KeyValuePair.Create(nameof(TimeoutException), 1L)],
            tally.ErrorsByType);
        Assert.Equal(ExitCodes.Unavailable, tally.ExitCodeOf(nameof(CacheUnavailableException)));
        Assert.Equal(ExitCodes.Timeout, tally.ExitCodeOf(nameof(TimeoutException)));
    }

    [Fact]
    public void Adding_tallies_sums_every_count()
    {
        var a = new BenchTally();
        a.Success();
        a.Miss();
        a.Error(new CacheOverloadedException("busy"));
        var b = new BenchTally();
        b.Success();
        b.Error(new CacheOverloadedException("busy"));
        b.Error(new TimeoutException());

        var total = new BenchTally();
        total.Add(a);
        total.Add(b);

        Assert.Equal(3, total.Successes);
        Assert.Equal(1, total.Misses);
        Assert.Equal(3, total.Errors);
        Assert.Equal(2, total.ErrorsByType.Single(e => e.Key == nameof(CacheOverloadedException)).Value);
    }

    [Fact]
    public void A_run_without_errors_exits_0_even_with_misses()
    {
        var phase = new BenchTally();
        phase.Success();
        phase.Miss();
        Assert.Equal(ExitCodes.Ok, BenchTally.ExitCode([new BenchTally(), phase]));
    }

    [Fact]
    public void A_value_over_the_limit_exits_4_like_a_single_put()
    {
        var ceiling = new BenchTally();
        ceiling.Success();
        var puts = new BenchTally();
        for (var i = 0; i < 10; i++) puts.Error(new CacheArgumentException("value too large"));
        Assert.Equal(ExitCodes.InvalidArgument, BenchTally.ExitCode([ceiling, puts]));
    }

    [Fact]
    public void Errors_of_one_kind_exit_with_its_code_even_when_most_operations_succeeded()
    {
        var puts = new BenchTally();
        for (var i = 0; i < 1_000; i++) puts.Success();
        puts.Error(new CacheOverloadedException("busy"));
        Assert.Equal(ExitCodes.Overloaded, BenchTally.ExitCode([puts]));
    }

    [Fact]
    public void Error_types_sharing_an_exit_code_exit_with_it()
    {
        // A client-side timeout and a lost connection both leave the outcome unknown to the client: exit code 9.
        var puts = new BenchTally();
        puts.Error(new TimeoutException());
        puts.Error(new OrleansException("connection lost"));
        Assert.Equal(ExitCodes.Timeout, BenchTally.ExitCode([puts]));
    }

    [Fact]
    public void Errors_of_several_kinds_exit_with_the_bench_errors_code()
    {
        var ceiling = new BenchTally();
        ceiling.Error(new TimeoutException());
        var puts = new BenchTally();
        puts.Error(new CacheOverloadedException("busy"));
        Assert.Equal(ExitCodes.BenchErrors, BenchTally.ExitCode([ceiling, puts]));
        Assert.Equal(11, ExitCodes.BenchErrors);
    }

    [Fact]
    public void Exit_codes_of_errors_follow_the_single_commands()
    {
        Assert.Equal(ExitCodes.InvalidArgument, ExitCodes.ForError(new CacheArgumentException("x")));
        Assert.Equal(ExitCodes.Unavailable, ExitCodes.ForError(new CacheUnavailableException("x")));
        Assert.Equal(ExitCodes.OutcomeUnknown, ExitCodes.ForError(new CacheOutcomeUnknownException("x")));
        Assert.Equal(ExitCodes.Overloaded, ExitCodes.ForError(new CacheOverloadedException("x")));
        Assert.Equal(ExitCodes.SessionExpired, ExitCodes.ForError(new CacheSessionExpiredException("x")));
        Assert.Equal(ExitCodes.Timeout, ExitCodes.ForError(new TimeoutException()));
        Assert.Equal(ExitCodes.Timeout, ExitCodes.ForError(new OrleansException("x")));
        Assert.Equal(ExitCodes.Failure, ExitCodes.ForError(new InvalidOperationException()));
    }
}
