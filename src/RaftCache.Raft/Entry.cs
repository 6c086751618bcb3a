namespace RaftCache.Raft;

/// <summary>What a log entry carries.</summary>
public enum EntryType : byte
{
    /// <summary>Application data, or empty data for the no-op a new leader appends (Raft §5.4.2, thesis §6.4).</summary>
    Normal = 0,

    /// <summary>A membership change: <see cref="Entry.Data"/> holds an encoded <see cref="ConfChange"/> (thesis §4.3).</summary>
    ConfChange = 1,
}

/// <summary>One entry of the replicated log.</summary>
/// <remarks>
/// A value type so that the log and outgoing messages hold entries inline, without one object per entry.
/// <see cref="Data"/> must never be mutated once proposed: the log, messages and the application share it.
/// </remarks>
/// <param name="Term">The leader term in which the entry was created.</param>
/// <param name="Index">The entry's position in the log, from 1.</param>
/// <param name="Type">Whether the entry is application data or a membership change.</param>
/// <param name="Data">The payload, opaque to Raft for <see cref="EntryType.Normal"/> entries.</param>
public readonly record struct Entry(ulong Term, ulong Index, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>The (term, index) pair that identifies the entry.</summary>
    public EntryId Id => new(Term, Index);

    /// <summary>The size counted against <see cref="RaftConfig.MaxSizePerMsg"/> and the uncommitted-size limit.</summary>
    public long Size => Data.Length + 24;
}

/// <summary>Identifies a log entry by the term it was created in and its index (Raft §5.3, the Log Matching Property).</summary>
/// <param name="Term">The term.</param>
/// <param name="Index">The index.</param>
public readonly record struct EntryId(ulong Term, ulong Index);
