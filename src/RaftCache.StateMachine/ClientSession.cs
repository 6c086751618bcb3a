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

    private readonly Dictionary<long, ApplyResult> _results = [];

    // The saved sequence numbers, smallest first, so that acknowledging drops exactly the results it covers instead
    // of scanning every saved result (a client with hundreds of writes in flight made each apply scan hundreds).
    private readonly PriorityQueue<long, long> _sequences = new();

    /// <summary>Results by sequence number, all at or above <see cref="LowestUnacked"/>.</summary>
    public IReadOnlyDictionary<long, ApplyResult> Results => _results;

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
        while (_sequences.TryPeek(out var sequence, out _) && sequence < lowestUnacked)
        {
            _sequences.Dequeue();
            _results.Remove(sequence);
        }
    }

    /// <summary>Saves the result of the command with <paramref name="sequence"/>, which has none yet.</summary>
    public void AddResult(long sequence, ApplyResult result)
    {
        _results.Add(sequence, result);
        _sequences.Enqueue(sequence, sequence);
    }

    /// <summary>Restores the acknowledged watermark from a snapshot.</summary>
    public void SetLowestUnacked(long value) => LowestUnacked = value;
}
