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
/// <para>A value type so that the log and outgoing messages hold entries inline, without one object per entry.
/// <see cref="Data"/> must never be mutated once proposed: the log, messages and the application share it.</para>
/// <para>32 bytes rather than 40: <see cref="Type"/> is kept in the top byte of the term's field instead of a field
/// of its own, which padding would widen to 8 bytes. Every copy of the log's entries is a fifth smaller (about 8 B
/// less allocated per committed entry under batching, see docs/raft-core.md). Terms are therefore limited to
/// <see cref="MaxTerm"/> (2^56 − 1; one election per microsecond would take over two thousand years to reach it).</para>
/// </remarks>
public readonly record struct Entry
{
    private const int TypeShift = 56;

    /// <summary>The largest term an entry can carry.</summary>
    public const ulong MaxTerm = (1UL << TypeShift) - 1;

    // Term in the low 56 bits, Type in the top 8.
    private readonly ulong _termAndType;

    /// <summary>Creates an entry.</summary>
    /// <param name="Term">The leader term in which the entry was created, at most <see cref="MaxTerm"/>.</param>
    /// <param name="Index">The entry's position in the log, from 1.</param>
    /// <param name="Type">Whether the entry is application data or a membership change.</param>
    /// <param name="Data">The payload, opaque to Raft for <see cref="EntryType.Normal"/> entries.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="Term"/> exceeds <see cref="MaxTerm"/>.</exception>
    public Entry(ulong Term, ulong Index, EntryType Type, ReadOnlyMemory<byte> Data)
    {
        _termAndType = Pack(Term, Type);
        this.Index = Index;
        this.Data = Data;
    }

    /// <summary>The leader term in which the entry was created.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set above <see cref="MaxTerm"/>.</exception>
    public ulong Term
    {
        get => _termAndType & MaxTerm;
        init => _termAndType = Pack(value, Type);
    }

    /// <summary>The entry's position in the log, from 1.</summary>
    public ulong Index { get; init; }

    /// <summary>Whether the entry is application data or a membership change.</summary>
    public EntryType Type
    {
        get => (EntryType)(_termAndType >> TypeShift);
        init => _termAndType = Pack(Term, value);
    }

    /// <summary>The payload, opaque to Raft for <see cref="EntryType.Normal"/> entries.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The (term, index) pair that identifies the entry.</summary>
    public EntryId Id => new(Term, Index);

    /// <summary>The size counted against <see cref="RaftConfig.MaxSizePerMsg"/> and the uncommitted-size limit.</summary>
    public long Size => Data.Length + 24;

    /// <summary>Deconstructs the entry into its positional parts.</summary>
    public void Deconstruct(out ulong Term, out ulong Index, out EntryType Type, out ReadOnlyMemory<byte> Data)
    {
        Term = this.Term;
        Index = this.Index;
        Type = this.Type;
        Data = this.Data;
    }

    private static ulong Pack(ulong term, EntryType type)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(term, MaxTerm, nameof(Term));
        return term | ((ulong)type << TypeShift);
    }
}

/// <summary>Identifies a log entry by the term it was created in and its index (Raft §5.3, the Log Matching Property).</summary>
/// <param name="Term">The term.</param>
/// <param name="Index">The index.</param>
public readonly record struct EntryId(ulong Term, ulong Index);
