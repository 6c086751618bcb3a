using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>
/// Everything a node asks its driver to do, in order: persist <see cref="HardState"/>, <see cref="Entries"/> and
/// <see cref="Snapshot"/>; then send <see cref="Messages"/>; then apply <see cref="Snapshot"/> and
/// <see cref="CommittedEntries"/> to the state machine; then call <see cref="RawNode.Advance"/>.
/// </summary>
/// <remarks>
/// <para>Messages are only valid to send after the state in the same Ready is persisted: a vote or an append
/// acknowledgement promises durable state (thesis §3.8).</para>
/// <para>To avoid copying entries, <see cref="Entries"/>, <see cref="CommittedEntries"/> and the entries of
/// <see cref="Messages"/> may wrap the same array, also one handed out in an earlier Ready or received in a
/// message. Such arrays are never written again, by the node or by anyone else: never take the array out of an
/// <see cref="ImmutableArray{T}"/> to change it.</para>
/// </remarks>
public sealed class Ready
{
    /// <summary>Leader or role change since the last Ready, if any.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>Hard state to persist, if it changed.</summary>
    public HardState? HardState { get; init; }

    /// <summary>Answers to read-index requests.</summary>
    public ImmutableArray<ReadState> ReadStates { get; init; } = [];

    /// <summary>Entries to append to stable storage (replacing any conflicting suffix).</summary>
    public ImmutableArray<Entry> Entries { get; init; } = [];

    /// <summary>A snapshot to persist and apply, if the leader sent one.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Committed entries to apply, in order.</summary>
    public ImmutableArray<Entry> CommittedEntries { get; init; } = [];

    /// <summary>Messages to send once the state above is persisted.</summary>
    public ImmutableArray<Message> Messages { get; init; } = [];

    /// <summary>Whether the hard state or entries must be synced to durable storage before sending.</summary>
    public bool MustSync { get; init; }
}
