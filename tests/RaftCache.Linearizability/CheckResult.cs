using System.Globalization;
using System.Text;

namespace RaftCache.Linearizability;

/// <summary>The checker's answer for a whole history: one <see cref="KeyCheckResult"/> per key.</summary>
public sealed class CheckResult
{
    internal CheckResult(IReadOnlyList<KeyCheckResult> keys, TimeSpan elapsed)
    {
        Keys = keys;
        Elapsed = elapsed;
        // A proven violation outranks a timeout elsewhere: it is a definite answer about the whole history.
        Verdict = keys.Any(k => k.Verdict == Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : keys.Any(k => k.Verdict == Verdict.Timeout) ? Verdict.Timeout
            : Verdict.Linearizable;
    }

    /// <summary>
    /// NotLinearizable if any key is; otherwise Timeout if any key timed out; otherwise Linearizable. A history is
    /// linearizable exactly when every key is (Herlihy and Wing's locality, which Porcupine calls P-compositionality).
    /// </summary>
    public Verdict Verdict { get; }

    /// <summary>Whether every key was proven linearizable. False on a timeout.</summary>
    public bool IsLinearizable => Verdict == Verdict.Linearizable;

    /// <summary>The per-key results, ordered by key (ordinal).</summary>
    public IReadOnlyList<KeyCheckResult> Keys { get; }

    /// <summary>How long the whole check took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The result for <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The history has no operation on <paramref name="key"/>.</exception>
    public KeyCheckResult this[string key] =>
        Keys.FirstOrDefault(k => k.Key == key) ?? throw new KeyNotFoundException($"No operations on key {key}.");

    /// <summary>
    /// A summary line, then the explanation of every key that is not linearizable or timed out; suitable for a test
    /// failure message.
    /// </summary>
    public string Explain()
    {
        var text = new StringBuilder();
        var linearizable = Keys.Count(k => k.Verdict == Verdict.Linearizable);
        text.Append(CultureInfo.InvariantCulture, $"{Verdict}: {linearizable} of {Keys.Count} keys linearizable, checked in {Elapsed.TotalMilliseconds:F0} ms.");
        foreach (var key in Keys.Where(k => k.Verdict != Verdict.Linearizable))
        {
            text.AppendLine().Append(key.Explain());
        }

        return text.ToString();
    }

    /// <inheritdoc cref="Explain"/>
    public override string ToString() => Explain();
}
