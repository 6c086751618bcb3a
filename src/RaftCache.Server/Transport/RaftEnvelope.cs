namespace RaftCache.Server.Transport;

/// <summary>A batch of Raft messages from one member to another, tagged with the group and the sender's silo.</summary>
/// <param name="GroupId">The Raft group; a replica drops batches of other groups.</param>
/// <param name="From">The sending member id.</param>
/// <param name="To">The receiving member id.</param>
/// <param name="FromSilo">The sender's silo, so a new member can answer before it applied the sender's addition.</param>
/// <param name="Payload">The messages, encoded by <see cref="RaftMessageCodec"/>; never mutated once sent.</param>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.RaftEnvelope")]
internal sealed record RaftEnvelope(
    [property: Id(0)] Guid GroupId,
    [property: Id(1)] ulong From,
    [property: Id(2)] ulong To,
    [property: Id(3)] SiloAddress FromSilo,
    [property: Id(4)] byte[] Payload);

/// <summary>One piece of a snapshot sent to a lagging member (Raft §7); chunks go in order, one call at a time.</summary>
/// <param name="GroupId">The Raft group.</param>
/// <param name="From">The leader's member id.</param>
/// <param name="To">The receiving member id.</param>
/// <param name="FromSilo">The leader's silo.</param>
/// <param name="TransferId">Identifies one transfer; a new transfer replaces an unfinished one.</param>
/// <param name="Offset">Where <paramref name="Data"/> starts in the snapshot data.</param>
/// <param name="TotalLength">The snapshot data's full length.</param>
/// <param name="Header">On the first chunk: the InstallSnapshot message encoded without its data.</param>
/// <param name="Data">This chunk's bytes.</param>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.SnapshotChunk")]
internal sealed record SnapshotChunk(
    [property: Id(0)] Guid GroupId,
    [property: Id(1)] ulong From,
    [property: Id(2)] ulong To,
    [property: Id(3)] SiloAddress FromSilo,
    [property: Id(4)] long TransferId,
    [property: Id(5)] long Offset,
    [property: Id(6)] long TotalLength,
    [property: Id(7)] byte[]? Header,
    [property: Id(8)] byte[] Data);
