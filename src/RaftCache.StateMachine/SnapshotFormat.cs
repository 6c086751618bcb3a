namespace RaftCache.StateMachine;

/// <summary>
/// Constants of snapshot format version 3 (see <see cref="CacheStateMachine"/>, snapshots, and docs/state-machine.md).
/// </summary>
/// <remarks>
/// Little-endian throughout:
/// <code>
/// header   magic "RCSN":u32  version:u16 = 3  reserved:u16 = 0
///          appliedIndex:i64  logTime:i64  entryCount:i64  dataBytes:i64 (sum of key and value lengths)  sessionCount:i64
/// sessions in activity order: id:i64 lastActive:i64 lowestUnacked:i64 resultCount:varint,
///          then resultCount × (sequence:i64 packedResult:i64 sessionId:i64 version:i64 number:i64), sorted by sequence
/// entries  in table order: flags:u8 writeIndex:i64 [deadline:i64 if flags has 1] [sliding:i64 cap:i64 if flags has 2]
///          keyLength:varint valueLength:varint key value
/// checksum XxHash64 of every byte before it:u64
/// </code>
/// Sessions come first so that a receiver knows them (and their limits are checked) before the bulk of the entries.
/// Entries are in table order, not heap order, because a view has the table's pages but not the heap; the receiver
/// rebuilds its heap in O(n). Table order differs between replicas with different table histories, so snapshots of
/// equal states taken on different replicas may differ in bytes while restoring to equal states (equal digests).
/// </remarks>
internal static class SnapshotFormat
{
    /// <summary>"RCSN" read as a little-endian u32.</summary>
    public const uint Magic = 0x4E534352;

    /// <summary>Header bytes: magic, version, reserved and five 64-bit fields.</summary>
    public const int HeaderBytes = 4 + 2 + 2 + (5 * 8);

    /// <summary>Fixed part of a session record, before the result count.</summary>
    public const int SessionFixedBytes = 3 * 8;

    /// <summary>One saved session result.</summary>
    public const int ResultBytes = 5 * 8;

    /// <summary>The trailing XxHash64.</summary>
    public const int ChecksumBytes = 8;

    /// <summary>
    /// Longest prefix of a record that the producer stages before copying: the header (48 bytes), or an entry's fields
    /// (flags, write index, deadline, sliding, cap: 33 bytes) with its two length varints (at most 20).
    /// </summary>
    public const int MaxStagedBytes = 64;
}
