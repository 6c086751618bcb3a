namespace RaftCache.Cli.Tests;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("5m", 300_000)]
    [InlineData("5M", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData(" 10s ", 10_000)]
    [InlineData("00:00:30", 30_000)]
    [InlineData("1.00:00:00", 86_400_000)]
    [InlineData("-5s", -5_000)]
    [InlineData("0s", 0)]
    public void Parses_units_and_timespans(string text, long milliseconds)
    {
        Assert.Equal(DurationParse.Ok, Durations.Parse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("ms")]
    [InlineData("1h30m")]
    [InlineData("NaNs")]
    [InlineData("12:xx")]
    public void Rejects_text_that_is_not_a_duration(string? text) =>
        Assert.Equal(DurationParse.Malformed, Durations.Parse(text, out _));

    [Theory]
    [InlineData("9999999999d")]
    [InlineData("10675200d")]
    [InlineData("-9999999999d")]
    [InlineData("1e400s")]
    [InlineData("99999999.00:00:00")]
    public void Reports_durations_beyond_TimeSpan_as_out_of_range(string text) =>
        Assert.Equal(DurationParse.OutOfRange, Durations.Parse(text, out _));

    [Fact]
    public void The_largest_whole_number_of_days_a_TimeSpan_holds_parses()
    {
        var days = (long)TimeSpan.MaxValue.TotalDays;
        Assert.Equal(DurationParse.Ok, Durations.Parse($"{days}d", out var value));
        Assert.Equal(TimeSpan.FromDays(days), value);
    }

    [Fact]
    public void Positive_check_says_out_of_range_for_a_huge_ttl_and_names_the_largest_duration()
    {
        var error = Durations.CheckPositive("9999999999d", out _);
        Assert.NotNull(error);
        Assert.Contains("'9999999999d' is out of range", error, StringComparison.Ordinal);
        Assert.Contains("10675199.02:48:05.4775807", error, StringComparison.Ordinal);
        Assert.DoesNotContain("positive", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-5s")]
    [InlineData("0s")]
    [InlineData("-00:00:01")]
    public void Positive_check_says_must_be_positive_for_zero_and_negative_durations(string text)
    {
        var error = Durations.CheckPositive(text, out _);
        Assert.NotNull(error);
        Assert.Contains($"'{text}' must be positive", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Positive_check_says_not_a_duration_for_garbage()
    {
        var error = Durations.CheckPositive("soon", out _);
        Assert.NotNull(error);
        Assert.Contains("'soon' is not a duration", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Positive_check_accepts_a_positive_duration()
    {
        Assert.Null(Durations.CheckPositive("5m", out var value));
        Assert.Equal(TimeSpan.FromMinutes(5), value);
    }

    [Fact]
    public void Non_negative_check_accepts_zero_and_rejects_negative()
    {
        Assert.Null(Durations.CheckNonNegative("0s", out var zero));
        Assert.Equal(TimeSpan.Zero, zero);
        Assert.Contains("must be zero or positive", Durations.CheckNonNegative("-1s", out _), StringComparison.Ordinal);
        Assert.Contains("out of range", Durations.CheckNonNegative("9999999999d", out _), StringComparison.Ordinal);
    }
}
