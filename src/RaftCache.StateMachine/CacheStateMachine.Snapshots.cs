namespace RaftCache.StateMachine;

/// <summary>Snapshot writing and restoring.</summary>
/// <remarks>
/// Format version 1, little-endian, streamed through a 64 KiB buffer:
/// <c>magic "RCSN":u32 version:u16 reserved:u16 appliedIndex:i64 logTime:i64 entryCount:i64 totalBytes:i64</c>,
/// then each entry in heap order <c>deadline:i64 writeIndex:i64 keyLength:varint valueLength:varint key value</c>,
/// then <c>sessionCount:i64</c> and each session in activity order
/// <c>id:i64 lastActive:i64 lowestUnacked:i64 resultCount:varint</c> followed by its results sorted by sequence
/// <c>sequence:i64 packedResult:i64 sessionId:i64</c>; finally an XxHash64 of all preceding bytes.
/// Writing entries in heap order lets restore rebuild the heap without sifting (and restore checks the heap order).
/// </remarks>
public sealed partial class CacheStateMachine
{
    /// <summary>Magic at the start of a snapshot: "RCSN" read as a little-endian u32.</summary>
    private const uint SnapshotMagic = 0x4E534352;

    /// <summary>The snapshot format version this build writes and reads.</summary>
    public const ushort SnapshotVersion = 1;

    /// <summary>
    /// Writes the whole state to <paramref name="destination"/>. Runs on the applying thread and serializes directly
    /// (no copy of the state), so applies wait while it runs; it is a consistent point-in-time image at
    /// <see cref="AppliedIndex"/>. Readers are not blocked.
    /// </summary>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted: its state must not be copied.</exception>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfFaulted();
        using var writer = new SnapshotWriter(destination);
        writer.WriteUInt32(SnapshotMagic);
        writer.WriteUInt16(SnapshotVersion);
        writer.WriteUInt16(0);
        writer.WriteInt64(_appliedIndex);
        writer.WriteInt64(_logTime);
        writer.WriteInt64(_heap.Count);
        writer.WriteInt64(_totalBytes);
        foreach (var entry in _heap.Items)
        {
            writer.WriteInt64(entry.DeadlineUnixMs);
            writer.WriteInt64(entry.WriteIndex);
            writer.WriteVarint((ulong)entry.KeyLength);
            writer.WriteVarint((ulong)(entry.Data.Length - entry.KeyLength));
            writer.WriteBytes(entry.Data);
        }

        writer.WriteInt64(_sessions.Count);
        foreach (var session in _sessions.InActivityOrder())
        {
            writer.WriteInt64(session.Id);
            writer.WriteInt64(session.LastActiveUnixMs);
            writer.WriteInt64(session.LowestUnacked);
            var results = SortedResults(session);
            writer.WriteVarint((ulong)results.Count);
            foreach (var (sequence, result) in results)
            {
                writer.WriteInt64(sequence);
                writer.WriteInt64(PackResult(result));
                writer.WriteInt64(result.SessionId);
            }
        }

        writer.Complete();
    }

    /// <summary>Writes the whole state into a new array (see <see cref="WriteSnapshot"/>).</summary>
    public byte[] CreateSnapshot()
    {
        using var stream = new MemoryStream();
        WriteSnapshot(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Replaces the state with the snapshot read from <paramref name="source"/> (to its end). The new state is built
    /// aside and swapped in only when the whole snapshot checked out; readers see the old or the new state, never a mix.
    /// </summary>
    /// <exception cref="SnapshotFormatException">The snapshot is corrupt, truncated, of an unknown version or exceeds this replica's limits; the previous state is kept.</exception>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted.</exception>
    public void Restore(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfFaulted();
        using var reader = new SnapshotReader(source);
        var magic = reader.ReadUInt32();
        if (magic != SnapshotMagic)
        {
            throw new SnapshotFormatException(SnapshotFormatError.BadMagic, "The data is not a RaftCache state machine snapshot (bad magic).");
        }

        var version = reader.ReadUInt16();
        if (version != SnapshotVersion)
        {
            throw new SnapshotFormatException(SnapshotFormatError.UnsupportedVersion,
                $"The snapshot has format version {version}; this build reads version {SnapshotVersion} only.");
        }

        if (reader.ReadUInt16() != 0)
        {
            throw SnapshotReader.Invalid("the reserved header field is not zero.");
        }

        var appliedIndex = reader.ReadInt64();
        var logTime = reader.ReadInt64();
        var entryCount = reader.ReadInt64();
        var totalBytes = reader.ReadInt64();
        if (appliedIndex < 0 || logTime < 0 || entryCount < 0 || totalBytes < 0)
        {
            throw SnapshotReader.Invalid("a header field is negative.");
        }

        if (entryCount > _options.MaxEntries || totalBytes > _options.MaxTotalBytes)
        {
            throw new SnapshotFormatException(SnapshotFormatError.ExceedsLimits,
                $"The snapshot holds {entryCount} entries of {totalBytes} bytes, more than MaxEntries {_options.MaxEntries} or MaxTotalBytes {_options.MaxTotalBytes}: the replicas' options differ.");
        }

        // Presize, but not beyond 4M entries on the header's word alone: the checksum is only known at the end.
        var presize = (int)Math.Min(entryCount, 1 << 22);
        var table = new EntryTable(presize);
        var heap = new EntryHeap(presize);
        long bytes = 0;
        for (long i = 0; i < entryCount; i++)
        {
            var deadline = reader.ReadInt64();
            var writeIndex = reader.ReadInt64();
            var keyLength = (int)reader.ReadVarint(_options.MaxKeyBytes, "key length");
            var valueLength = (int)reader.ReadVarint(_options.MaxValueBytes, "value length");
            if (keyLength == 0 || deadline <= logTime || writeIndex < 1 || writeIndex > appliedIndex)
            {
                throw SnapshotReader.Invalid($"entry {i} has an empty key, a deadline not after log time, or a write index outside 1..{appliedIndex}.");
            }

            var entry = new CacheEntry(reader.ReadBytes(keyLength + valueLength), keyLength, deadline, writeIndex);
            if (!table.TryAddNew(entry))
            {
                throw SnapshotReader.Invalid($"entry {i} repeats a key.");
            }

            heap.AddUnordered(entry);
            bytes += entry.Size;
        }

        if (bytes != totalBytes || !heap.IsValidHeap())
        {
            throw SnapshotReader.Invalid("the entries' total size or order does not match the header.");
        }

        var sessionCount = reader.ReadInt64();
        if (sessionCount < 0 || sessionCount > _options.MaxSessions)
        {
            throw new SnapshotFormatException(SnapshotFormatError.ExceedsLimits,
                $"The snapshot holds {sessionCount} sessions; MaxSessions is {_options.MaxSessions}.");
        }

        var sessions = new SessionTable();
        long previousActivity = long.MinValue;
        for (long i = 0; i < sessionCount; i++)
        {
            var id = reader.ReadInt64();
            var lastActive = reader.ReadInt64();
            var lowest = reader.ReadInt64();
            if (id < 1 || id > appliedIndex || lastActive < previousActivity || lastActive > logTime
                || lastActive + _sessionIdleMs <= logTime || lowest < 1)
            {
                throw SnapshotReader.Invalid($"session {i} has an impossible id, activity time or sequence.");
            }

            previousActivity = lastActive;
            var session = new ClientSession(id, lastActive);
            session.SetLowestUnacked(lowest);
            var resultCount = reader.ReadVarint(_options.MaxInFlightPerSession, "session result count");
            long previousSequence = lowest - 1;
            for (long r = 0; r < resultCount; r++)
            {
                var sequence = reader.ReadInt64();
                var packed = reader.ReadInt64();
                var resultSessionId = reader.ReadInt64();
                if (sequence <= previousSequence)
                {
                    throw SnapshotReader.Invalid($"session {id} has results out of order or below its acknowledged sequence.");
                }

                previousSequence = sequence;
                session.Results.Add(sequence, UnpackResult(packed, resultSessionId));
            }

            if (!sessions.Add(session))
            {
                throw SnapshotReader.Invalid($"session {id} appears twice.");
            }
        }

        reader.VerifyChecksumAndEnd();

        // Everything checked: swap. Readers only see _table, which changes in one reference write.
        _heap = heap;
        _sessions = sessions;
        Volatile.Write(ref _logTime, logTime);
        Volatile.Write(ref _count, (int)entryCount);
        Volatile.Write(ref _totalBytes, totalBytes);
        Volatile.Write(ref _table, table);
        Volatile.Write(ref _appliedIndex, appliedIndex);
        Volatile.Write(ref _expiredTotal, 0);
        Volatile.Write(ref _evictedTotal, 0);
        Volatile.Write(ref _duplicateTotal, 0);
        Volatile.Write(ref _sessionExpiredTotal, 0);
        Volatile.Write(ref _sessionsExpiredTotal, 0);
    }

    /// <summary>Replaces the state with the snapshot in <paramref name="snapshot"/> (see <see cref="Restore(Stream)"/>).</summary>
    /// <exception cref="SnapshotFormatException">The snapshot is corrupt, truncated, of an unknown version or exceeds this replica's limits; the previous state is kept.</exception>
    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        var array = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(snapshot, out var segment)
            ? segment
            : new ArraySegment<byte>(snapshot.ToArray());
        using var stream = new MemoryStream(array.Array!, array.Offset, array.Count, writable: false);
        Restore(stream);
    }
}
