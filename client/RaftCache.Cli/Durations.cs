using System.Globalization;
using System.CommandLine.Parsing;

namespace RaftCache.Cli;

/// <summary>Durations on the command line: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>, or a TimeSpan (<c>00:00:30</c>).</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        (string suffix, double factorMs)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number) && Math.Abs(number * factor) < TimeSpan.MaxValue.TotalMilliseconds)
            {
                value = TimeSpan.FromMilliseconds(number * factor);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A System.CommandLine parser for a positive duration option.</summary>
    public static TimeSpan? ParsePositive(ArgumentResult result)
    {
        var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (TryParse(token, out var value) && value > TimeSpan.Zero) return value;
        result.AddError($"'{token}' is not a positive duration (use for example 500ms, 30s, 5m, 1h or 00:00:30).");
        return null;
    }
}
