using System.Globalization;
using System.Text;

namespace RaftCache.Linearizability;

/// <summary>The checker's answer for the operations on one key.</summary>
public sealed class KeyCheckResult
{
    private const int PrefixLinesShown = 12;
    private const int CandidateLinesShown = 24;

    internal KeyCheckResult(
        string key,
        Verdict verdict,
        int operationCount,
        long steps,
        TimeSpan elapsed,
        IReadOnlyList<Operation> linearization,
        string? finalState,
        IReadOnlyList<UnplacedOperation> unplaced)
    {
        Key = key;
        Verdict = verdict;
        OperationCount = operationCount;
        Steps = steps;
        Elapsed = elapsed;
        Linearization = linearization;
        FinalState = finalState;
        Unplaced = unplaced;
    }

    /// <summary>The key.</summary>
    public string Key { get; }

    /// <summary>Linearizable, NotLinearizable or Timeout.</summary>
    public Verdict Verdict { get; }

    /// <summary>How many operations were checked (after dropping Failed operations and Unknown Gets).</summary>
    public int OperationCount { get; }

    /// <summary>How many search steps were taken; a measure of how hard the history was.</summary>
    public long Steps { get; }

    /// <summary>How long the search ran.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// For a linearizable key, a witness: the operations in an order in which they could have taken effect (Unknown
    /// writes left out took effect after everything else, or never). Otherwise the longest linearizable prefix found.
    /// </summary>
    public IReadOnlyList<Operation> Linearization { get; }

    /// <summary>
    /// Where the longest prefix got stuck: the operations that were candidates to go next, none of which could be
    /// placed, with the reason for each. Empty for a linearizable key.
    /// </summary>
    public IReadOnlyList<UnplacedOperation> Unplaced { get; }

    /// <summary>The register's value after <see cref="Linearization"/>, as text; <see langword="null"/> if not known.</summary>
    public string? FinalState { get; }

    /// <summary>A multi-line explanation, suitable for a test failure message.</summary>
    public string Explain()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Key {ValueText.Key(Key)}: {Verdict} ({OperationCount} operations, {Steps} steps, {Elapsed.TotalMilliseconds:F0} ms).");
        if (Verdict == Verdict.Linearizable)
        {
            return text.ToString();
        }

        if (Verdict == Verdict.Timeout)
        {
            text.Append(" The budget ran out before an answer; this is not a pass.");
        }

        text.AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"  Longest linearizable prefix found: {Linearization.Count} of {OperationCount} operations");
        text.AppendLine(FinalState is null ? "." : $", after which the value is {FinalState}:");
        var skipped = Math.Max(0, Linearization.Count - PrefixLinesShown);
        if (skipped > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    ... {skipped} earlier operations ...");
        }

        for (var i = skipped; i < Linearization.Count; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {i + 1}. {Linearization[i]}");
        }

        if (Unplaced.Count > 0)
        {
            text.AppendLine("  None of these operations could be placed next:");
            for (var i = 0; i < Unplaced.Count && i < CandidateLinesShown; i++)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {Unplaced[i].Operation}: {Unplaced[i].Reason}");
            }

            if (Unplaced.Count > CandidateLinesShown)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    ... and {Unplaced.Count - CandidateLinesShown} more.");
            }
        }

        return text.ToString().TrimEnd();
    }

    /// <inheritdoc cref="Explain"/>
    public override string ToString() => Explain();
}

/// <summary>An operation that could not be placed after the longest linearizable prefix, and why.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Reason">Why it could not go next, e.g. <c>read "v1" but the value is "v2"</c>.</param>
public sealed record UnplacedOperation(Operation Operation, string Reason);
