using Orleans.Serialization.Buffers;

namespace RaftCache.Server.Transport;

/// <summary>
/// Raft messages from one silo to another, for any number of groups, encoded by <see cref="RaftMessageCodec"/>
/// into pooled memory: Orleans returns the sender's buffer to its pool once serialized, and the receiver disposes
/// its copy once decoded, so large appends never allocate large-object-heap arrays.
/// </summary>
[GenerateSerializer, Alias("RaftCache.Server.RaftBatch")]
internal sealed class RaftBatch
{
    /// <summary>The sending silo, so that a new member can answer before it learnt the sender's address from the log.</summary>
    [Id(0)] public required SiloAddress FromSilo { get; init; }

    /// <summary>The encoded messages; owned by whoever holds the batch, disposed after use.</summary>
    [Id(1)] public PooledBuffer Payload { get; set; }
}

/// <summary>
/// One piece of a snapshot streamed to a lagging member (Raft §7). Pieces of one transfer go one at a time, in order;
/// the first carries the InstallSnapshot message (without data) and the sender's routing table, every piece a part
/// of the state machine's streamed snapshot.
/// </summary>
[GenerateSerializer, Alias("RaftCache.Server.SnapshotChunk")]
internal sealed class SnapshotChunk
{
    /// <summary>The Raft group.</summary>
    [Id(0)] public required GroupId Group { get; init; }

    /// <summary>The leader's member id.</summary>
    [Id(1)] public required ulong From { get; init; }

    /// <summary>The receiving member id.</summary>
    [Id(2)] public required ulong To { get; init; }

    /// <summary>The leader's silo.</summary>
    [Id(3)] public required SiloAddress FromSilo { get; init; }

    /// <summary>Identifies one transfer; a new transfer replaces an unfinished one.</summary>
    [Id(4)] public required long TransferId { get; init; }

    /// <summary>The piece's number in its transfer, from 0.</summary>
    [Id(5)] public required int Sequence { get; init; }

    /// <summary>Whether this is the transfer's last piece.</summary>
    [Id(6)] public required bool Last { get; init; }

    /// <summary>On the first piece: the InstallSnapshot message without data, then the member routes.</summary>
    [Id(7)] public byte[]? Header { get; init; }

    /// <summary>The next bytes of the state machine snapshot; disposed by the receiver.</summary>
    [Id(8)] public PooledBuffer Data { get; set; }
}
