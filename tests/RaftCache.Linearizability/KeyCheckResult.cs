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
        IReadOnlyList<UnplacedOperation> unplaced,
        KeyModel model = KeyModel.Register)
    {
        Model = model;
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

    /// <summary>How the key was checked: as a register, or as a counter (a key with Increments).</summary>
    public KeyModel Model { get; }

    /// <summary>Linearizable, NotLinearizable or Timeout.</summary>
    public Verdict Verdict { get; }

    /// <summary>How many operations were checked (after dropping Failed operations and Unknown Gets).</summary>
    public int OperationCount { get; }

    /// <summary>How many search steps were taken; a measure of how hard the history was (for a counter, the operations checked).</summary>
    public long Steps { get; }

    /// <summary>How long the search ran.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// For a linearizable key, a witness: the operations in an order in which they could have taken effect (Unknown
    /// writes left out took effect after everything else, or never). Otherwise the longest linearizable prefix found
    /// (for a counter, which is not searched, nothing).
    /// </summary>
    public IReadOnlyList<Operation> Linearization { get; }

    /// <summary>
    /// Where the longest prefix got stuck: the operations that were candidates to go next, none of which could be
    /// placed, with the reason for each. For a counter, every operation found to break the counter model, and why.
    /// Empty for a linearizable key.
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
        if (Model == KeyModel.Counter)
        {
            // The counter check is not a search: it has no prefix to show, only the facts that rule out every order.
            if (Unplaced.Count > 0)
            {
                text.AppendLine("  No order of the operations fits a counter that starts absent and goes up by one per Increment:");
                AppendUnplaced(text);
            }

            return text.ToString().TrimEnd();
        }

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
            AppendUnplaced(text);
        }

        return text.ToString().TrimEnd();
    }

    private void AppendUnplaced(StringBuilder text)
    {
        for (var i = 0; i < Unplaced.Count && i < CandidateLinesShown; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {Unplaced[i].Operation}: {Unplaced[i].Reason}");
        }

        if (Unplaced.Count > CandidateLinesShown)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    ... and {Unplaced.Count - CandidateLinesShown} more.");
        }
    }

    /// <inheritdoc cref="Explain"/>
    public override string ToString() => Explain();
}

/// <summary>How a key's operations were checked.</summary>
public enum KeyModel
{
    /// <summary>As a register: Put, Delete, Get and CompareAndSet, by a linearizability search.</summary>
    Register,

    /// <summary>As a counter: Increment and Get, by an exact check of the increments' results (no search).</summary>
    Counter,
}

/// <summary>An operation that could not be placed after the longest linearizable prefix, and why.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Reason">Why it could not go next, e.g. <c>read "v1" but the value is "v2"</c>.</param>
public sealed record UnplacedOperation(Operation Operation, string Reason);
