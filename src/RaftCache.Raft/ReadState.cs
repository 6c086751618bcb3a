namespace RaftCache.Raft;

/// <summary>
/// The answer to a <see cref="RawNode.ReadIndex"/> request: once the node has applied up to <see cref="Index"/>, a
/// read of the state machine is linearizable (thesis §6.4).
/// </summary>
/// <param name="Index">The commit index confirmed by the leader when the read was served.</param>
/// <param name="RequestId">The id the application passed to <see cref="RawNode.ReadIndex"/>.</param>
public readonly record struct ReadState(ulong Index, ulong RequestId);
