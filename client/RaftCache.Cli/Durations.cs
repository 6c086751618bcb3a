using System.CommandLine.Parsing;
using System.Globalization;

namespace RaftCache.Cli;

/// <summary>What <see cref="Durations.Parse"/> made of a text.</summary>
internal enum DurationParse
{
    /// <summary>A duration that a <see cref="TimeSpan"/> holds.</summary>
    Ok,

    /// <summary>Not a duration at all.</summary>
    Malformed,

    /// <summary>A duration, but longer than <see cref="TimeSpan.MaxValue"/> (or shorter than its negative).</summary>
    OutOfRange,
}

/// <summary>Durations on the command line: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>, or a TimeSpan (<c>00:00:30</c>).</summary>
internal static class Durations
{
    /// <summary>The forms accepted, for error messages.</summary>
    public const string Examples = "use for example 500ms, 30s, 5m, 1h, 1d or 00:00:30";

    // Longest first, so that "5ms" is read as milliseconds rather than as "5m" followed by garbage.
    private static readonly (string Suffix, double Milliseconds)[] Units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];

    /// <summary>The longest duration, as the message for an out-of-range value names it.</summary>
    public static string Largest { get; } = $"{TimeSpan.MaxValue.ToString("c", CultureInfo.InvariantCulture)} (about {TimeSpan.MaxValue.TotalDays / 365.25:N0} years)";

    /// <summary>Parses <paramref name="text"/>; <paramref name="value"/> is set only when the result is <see cref="DurationParse.Ok"/>.</summary>
    public static DurationParse Parse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return DurationParse.Malformed;
        text = text.Trim();
        foreach (var (suffix, factor) in Units)
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            // Only the number before the suffix; "1e400s" parses as infinity, which is out of range, not malformed.
            if (!double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                continue;
            if (double.IsNaN(number)) return DurationParse.Malformed;
            var milliseconds = number * factor;
            // TimeSpan.FromMilliseconds throws beyond this; compare before converting.
            if (double.IsInfinity(milliseconds) || Math.Abs(milliseconds) >= TimeSpan.MaxValue.TotalMilliseconds) return DurationParse.OutOfRange;
            value = TimeSpan.FromMilliseconds(milliseconds);
            return DurationParse.Ok;
        }

        try
        {
            value = TimeSpan.Parse(text, CultureInfo.InvariantCulture);
            return DurationParse.Ok;
        }
        catch (OverflowException)
        {
            return DurationParse.OutOfRange;
        }
        catch (FormatException)
        {
            return DurationParse.Malformed;
        }
    }

    /// <summary>Whether <paramref name="text"/> is a duration a <see cref="TimeSpan"/> holds, of any sign.</summary>
    public static bool TryParse(string? text, out TimeSpan value) => Parse(text, out value) == DurationParse.Ok;

    /// <summary>The error for <paramref name="text"/> as a positive duration, or null if it is one.</summary>
    public static string? CheckPositive(string? text, out TimeSpan value) => Check(text, out value, allowZero: false);

    /// <summary>The error for <paramref name="text"/> as a duration of zero or more, or null if it is one.</summary>
    public static string? CheckNonNegative(string? text, out TimeSpan value) => Check(text, out value, allowZero: true);

    /// <summary>A System.CommandLine parser for a positive duration option.</summary>
    public static TimeSpan? ParsePositive(ArgumentResult result) => ParseOption(result, allowZero: false);

    /// <summary>A System.CommandLine parser for a duration option that may be zero.</summary>
    public static TimeSpan? ParseNonNegative(ArgumentResult result) => ParseOption(result, allowZero: true);

    private static TimeSpan? ParseOption(ArgumentResult result, bool allowZero)
    {
        ArgumentNullException.ThrowIfNull(result);
        var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(' ', result.Tokens.Select(t => t.Value));
        if (Check(token, out var value, allowZero) is { } error)
        {
            result.AddError(error);
            return null;
        }

        return value;
    }

    private static string? Check(string? text, out TimeSpan value, bool allowZero)
    {
        switch (Parse(text, out value))
        {
            case DurationParse.Malformed:
                return $"'{text}' is not a duration ({Examples}).";
            case DurationParse.OutOfRange:
                return $"'{text}' is out of range: the longest duration is {Largest}.";
            default:
                if (value < TimeSpan.Zero || (value == TimeSpan.Zero && !allowZero))
                    return $"'{text}' must be {(allowZero ? "zero or positive" : "positive")} ({Examples}).";
                return null;
        }
    }
}
