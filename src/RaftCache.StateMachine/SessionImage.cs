namespace RaftCache.StateMachine;

/// <summary>An immutable copy of one client session, taken by <see cref="CacheStateMachine.CaptureView"/>.</summary>
internal sealed class SessionImage
{
    public SessionImage(ClientSession session)
    {
        Id = session.Id;
        LastActiveUnixMs = session.LastActiveUnixMs;
        LowestUnacked = session.LowestUnacked;
        Results = [.. CacheStateMachine.SortedResults(session)];
    }

    public long Id { get; }

    public long LastActiveUnixMs { get; }

    public long LowestUnacked { get; }

    /// <summary>Saved results sorted by sequence.</summary>
    public (long Sequence, ApplyResult Result)[] Results { get; }
}
