namespace RaftCache.StateMachine.Tests;

public class CacheStateMachineOptionsTests
{
    [Fact]
    public void Default_options_have_no_errors() => Assert.Empty(new CacheStateMachineOptions().GetErrors());

    [Fact]
    public void Every_bad_setting_is_listed_once_with_its_value()
    {
        var options = new CacheStateMachineOptions
        {
            MaxKeyBytes = 0,
            MaxTtl = TimeSpan.Zero,
            MaxEntries = -3,
            SessionIdleTimeout = TimeSpan.FromDays(40_000),
            MaxInFlightPerSession = 0,
        };

        Assert.Equal(
            [
                "MaxKeyBytes must be between 1 and 67108864 (is 0).",
                "MaxTtl must be between 1 ms and 36525 days (is 00:00:00).",
                "MaxEntries must be at least 1 (is -3).",
                "SessionIdleTimeout must be between 1 ms and 36525 days (is 40000.00:00:00).",
                "MaxInFlightPerSession must be at least 1 (is 0).",
            ],
            options.GetErrors());
    }

    [Fact]
    public void The_prefix_names_each_setting_by_its_configuration_path()
    {
        var options = new CacheStateMachineOptions { MaxKeyBytes = 0, MaxValueBytes = 70_000_000, MaxTotalBytes = 1000 };

        Assert.Equal(
            [
                "RaftCache:Cache:MaxKeyBytes must be between 1 and 67108864 (is 0).",
                "RaftCache:Cache:MaxValueBytes must be between 0 and 67108864 (is 70000000).",
                "RaftCache:Cache:MaxTotalBytes must be at least MaxKeyBytes + MaxValueBytes + EntryOverheadBytes (70000072) so that any valid entry fits (is 1000).",
            ],
            options.GetErrors("RaftCache:Cache:"));
    }

    [Fact]
    public void Validate_names_the_first_bad_setting_and_lists_them_all()
    {
        var options = new CacheStateMachineOptions { MaxValueBytes = -1, MaxSessions = 0 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(CacheStateMachineOptions.MaxValueBytes), e.ParamName);
        Assert.Contains("CacheStateMachineOptions.MaxValueBytes must be between 0 and 67108864 (is -1).", e.Message, StringComparison.Ordinal);
        Assert.Contains("CacheStateMachineOptions.MaxSessions must be at least 1 (is 0).", e.Message, StringComparison.Ordinal);
    }
}
