namespace RaftCache.Linearizability;

/// <summary>The checker's answer for one key, or for a whole history.</summary>
public enum Verdict
{
    /// <summary>A linearization was found: the history is consistent with an atomic register.</summary>
    Linearizable,

    /// <summary>The search proved that no linearization exists.</summary>
    NotLinearizable,

    /// <summary>The budget ran out before the search reached an answer. Never a pass.</summary>
    Timeout,
}
