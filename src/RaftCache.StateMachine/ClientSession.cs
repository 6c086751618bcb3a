namespace RaftCache.StateMachine;

/// <summary>
/// A client session (Raft thesis §6.3): the results of the client's applied commands that it may still retry,
/// so that a retried command is answered without being applied twice. Applying thread only.
/// </summary>
internal sealed class ClientSession
{
    public ClientSession(long id, long lastActiveUnixMs)
    {
        Id = id;
        LastActiveUnixMs = lastActiveUnixMs;
        LowestUnacked = 1;
    }

    public long Id { get; }

    /// <summary>Log time of the session's last command.</summary>
    public long LastActiveUnixMs { get; set; }

    /// <summary>Largest "lowest sequence not yet seen answered" the client has sent; results below it are dropped.</summary>
    public long LowestUnacked { get; private set; }

    /// <summary>Results by sequence number, all at or above <see cref="LowestUnacked"/>.</summary>
    public Dictionary<long, ApplyResult> Results { get; } = [];

    // Intrusive links of the session table's list, ordered by last activity.
    public ClientSession? Previous { get; set; }

    public ClientSession? Next { get; set; }

    /// <summary>
    /// Raises <see cref="LowestUnacked"/> and drops the results the client has seen. Commands may arrive out of order,
    /// so a lower value than already known is ignored.
    /// </summary>
    public void Acknowledge(long lowestUnacked)
    {
        if (lowestUnacked <= LowestUnacked)
        {
            return;
        }

        LowestUnacked = lowestUnacked;
        // Removing while enumerating is allowed for Dictionary since .NET Core 3.0; which keys go does not depend on order.
        foreach (var sequence in Results.Keys)
        {
            if (sequence < lowestUnacked)
            {
                Results.Remove(sequence);
            }
        }
    }

    /// <summary>Restores the acknowledged watermark from a snapshot.</summary>
    public void SetLowestUnacked(long value) => LowestUnacked = value;
}
