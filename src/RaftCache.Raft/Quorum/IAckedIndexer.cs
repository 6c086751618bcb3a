namespace RaftCache.Raft.Quorum;

/// <summary>Looks up the highest log index each voter is known to have (the leader's match indexes).</summary>
/// <remarks>
/// Called once per voter for every commit computation on the leader; implement it over the progress map directly
/// (a class, or a struct passed by reference through a class) rather than building a dictionary per call.
/// </remarks>
public interface IAckedIndexer
{
    /// <summary>The acknowledged index of <paramref name="voterId"/>; false if nothing is known of it.</summary>
    bool TryGetAckedIndex(ulong voterId, out ulong index);
}
