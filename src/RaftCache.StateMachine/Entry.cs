using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RaftCache.StateMachine;

/// <summary>
/// A stored entry is one byte array: a small header followed by the key and value bytes. There is no
/// separate entry object, so an entry costs one array header (24 bytes) instead of an object (48 bytes) plus an array.
/// </summary>
/// <remarks>
/// <para>Layout (native byte order; the snapshot format writes the fields explicitly, never this header as is):</para>
/// <code>
///  0  writeIndex    i64   log index of the Put that wrote the entry
///  8  heapPosition  i32   position in EntryHeap; mutable, applying thread only, not replicated state
/// 12  keyLength     i32
/// 16  flags         u8    which optional fields follow
/// 17  [deadline     i64]  when flags has HasDeadline; absent for entries that never expire
///     [sliding      i64]  when flags has HasSliding (which implies HasDeadline): the sliding window in ms
///     [cap          i64]  with sliding: the absolute bound a refresh never passes, or NoDeadline
///     key, value
/// </code>
/// <para>Optional fields sit behind flags so that entries which do not use them pay nothing: an entry without TTL is 8
/// bytes shorter, one without sliding expiration 16. Readers compute the key offset from the flags. A flag this build
/// does not know is a format error in a snapshot.</para>
/// <para>The write index is also the entry's version: the log index of the write that gave it its value. A refresh
/// moves the deadline but keeps the version, since the value did not change.</para>
/// <para>Everything but the heap position is immutable once the entry is published to readers or shared with a
/// <see cref="StateMachineView"/>: an overwrite publishes a new entry, so a reader never sees a new value with an old
/// deadline, and a view can share entries without copying them. The heap position is written by the applying thread
/// while other threads may read the same array; they never read those four bytes.</para>
/// <para>Measured at one million entries of 16 + 100 bytes (docs/state-machine.md, Performance): the array header, this
/// 17- or 25-byte header and rounding to 8 bytes cost 44 bytes (no TTL) or 52 bytes (TTL) per entry, against 76 bytes
/// for the former entry object plus array.</para>
/// </remarks>
internal static class Entry
{
    /// <summary>Deadline of an entry without TTL; sorts after every real deadline.</summary>
    public const long NoDeadline = long.MaxValue;

    /// <summary>Flag: a deadline follows the fixed header.</summary>
    public const byte HasDeadline = 1;

    /// <summary>Flag: a sliding window and its absolute cap follow the deadline.</summary>
    public const byte HasSliding = 2;

    /// <summary>Every flag this build understands; others are format errors in snapshots.</summary>
    public const byte KnownFlags = HasDeadline | HasSliding;

    /// <summary>Bytes of the header before optional fields.</summary>
    public const int FixedHeaderBytes = 17;

    private const int WriteIndexOffset = 0;
    private const int HeapPositionOffset = 8;
    private const int KeyLengthOffset = 12;
    private const int FlagsOffset = 16;

    /// <summary>Builds an entry, copying key and value.</summary>
    public static byte[] Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long deadlineUnixMs, long writeIndex) =>
        Create(key, value, deadlineUnixMs, writeIndex, 0, NoDeadline);

    /// <summary>Builds an entry with a sliding window (<paramref name="slidingMs"/> &gt; 0) bounded by <paramref name="capUnixMs"/>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long deadlineUnixMs, long writeIndex, long slidingMs, long capUnixMs)
    {
        var entry = Allocate(key.Length, value.Length, deadlineUnixMs, writeIndex, slidingMs, capUnixMs);
        var offset = KeyOffset(entry);
        key.CopyTo(entry.AsSpan(offset));
        value.CopyTo(entry.AsSpan(offset + key.Length));
        return entry;
    }

    /// <summary>Builds an entry with its header written and key and value still to fill (at <see cref="KeyOffset"/>).</summary>
    public static byte[] Allocate(int keyLength, int valueLength, long deadlineUnixMs, long writeIndex, long slidingMs = 0, long capUnixMs = NoDeadline)
    {
        var hasDeadline = deadlineUnixMs != NoDeadline;
        var hasSliding = hasDeadline && slidingMs > 0;
        var flags = (byte)((hasDeadline ? HasDeadline : 0) | (hasSliding ? HasSliding : 0));
        var entry = GC.AllocateUninitializedArray<byte>(HeaderLength(flags) + keyLength + valueLength);
        Write(entry, WriteIndexOffset, writeIndex);
        Write(entry, HeapPositionOffset, -1);
        Write(entry, KeyLengthOffset, keyLength);
        entry[FlagsOffset] = flags;
        if (hasDeadline)
        {
            Write(entry, FixedHeaderBytes, deadlineUnixMs);
        }

        if (hasSliding)
        {
            Write(entry, FixedHeaderBytes + 8, slidingMs);
            Write(entry, FixedHeaderBytes + 16, capUnixMs);
        }

        return entry;
    }

    /// <summary>A copy of <paramref name="entry"/> with <paramref name="deadlineUnixMs"/>: same key, value, version and window.</summary>
    public static byte[] WithDeadline(byte[] entry, long deadlineUnixMs) =>
        Create(Key(entry), Value(entry), deadlineUnixMs, WriteIndex(entry), SlidingMs(entry), Cap(entry));

    /// <summary>Bytes of the header for <paramref name="flags"/>: the fixed part and the optional fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HeaderLength(byte flags) =>
        FixedHeaderBytes + ((flags & HasDeadline) != 0 ? sizeof(long) : 0) + ((flags & HasSliding) != 0 ? 2 * sizeof(long) : 0);

    /// <summary>The sliding window in milliseconds, or 0 for an entry without sliding expiration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SlidingMs(byte[] entry) => (entry[FlagsOffset] & HasSliding) != 0 ? Read<long>(entry, FixedHeaderBytes + 8) : 0;

    /// <summary>The absolute bound of a sliding entry's deadline, or <see cref="NoDeadline"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Cap(byte[] entry) => (entry[FlagsOffset] & HasSliding) != 0 ? Read<long>(entry, FixedHeaderBytes + 16) : NoDeadline;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Flags(byte[] entry) => entry[FlagsOffset];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long WriteIndex(byte[] entry) => Read<long>(entry, WriteIndexOffset);

    /// <summary>Absolute expiry in log time (timestamp of the Put + TTL), or <see cref="NoDeadline"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Deadline(byte[] entry) =>
        (entry[FlagsOffset] & HasDeadline) != 0 ? Read<long>(entry, FixedHeaderBytes) : NoDeadline;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyLength(byte[] entry) => Read<int>(entry, KeyLengthOffset);

    /// <summary>Where the key starts: after the fixed header and the optional fields the flags announce.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyOffset(byte[] entry) => HeaderLength(entry[FlagsOffset]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ValueLength(byte[] entry) => entry.Length - KeyOffset(entry) - KeyLength(entry);

    public static ReadOnlySpan<byte> Key(byte[] entry) => new(entry, KeyOffset(entry), KeyLength(entry));

    public static ReadOnlySpan<byte> Value(byte[] entry)
    {
        var start = KeyOffset(entry) + KeyLength(entry);
        return new(entry, start, entry.Length - start);
    }

    public static ReadOnlyMemory<byte> ValueMemory(byte[] entry)
    {
        var start = KeyOffset(entry) + KeyLength(entry);
        return new(entry, start, entry.Length - start);
    }

    /// <summary>Key bytes followed by value bytes (contiguous).</summary>
    public static ReadOnlySpan<byte> Data(byte[] entry)
    {
        var start = KeyOffset(entry);
        return new(entry, start, entry.Length - start);
    }

    /// <summary>Key plus value length.</summary>
    public static long DataLength(byte[] entry) => entry.Length - KeyOffset(entry);

    /// <summary>Bytes charged against <see cref="CacheStateMachineOptions.MaxTotalBytes"/>.</summary>
    public static long Cost(byte[] entry) => DataLength(entry) + CacheStateMachineOptions.EntryOverheadBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool KeyEquals(byte[] entry, ReadOnlySpan<byte> key) =>
        KeyLength(entry) == key.Length && new ReadOnlySpan<byte>(entry, KeyOffset(entry), key.Length).SequenceEqual(key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HeapPosition(byte[] entry) => Read<int>(entry, HeapPositionOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetHeapPosition(byte[] entry, int position) => Write(entry, HeapPositionOffset, position);

    /// <summary>
    /// Eviction and expiry order: soonest deadline first, then oldest write. Write indexes are unique among live
    /// entries (each is the log index of the Put that wrote it), so the key comparison is never reached for a state
    /// built by apply; it keeps the order total even for a snapshot that repeats a write index, so that every replica
    /// still evicts the same entries.
    /// </summary>
    public static int Compare(byte[] a, byte[] b)
    {
        var c = Deadline(a).CompareTo(Deadline(b));
        if (c != 0)
        {
            return c;
        }

        c = WriteIndex(a).CompareTo(WriteIndex(b));
        return c != 0 ? c : Key(a).SequenceCompareTo(Key(b));
    }

    // Every entry is at least FixedHeaderBytes long, so the header reads are in bounds without checks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Read<T>(byte[] entry, int offset)
        where T : unmanaged =>
        Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(entry), offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write<T>(byte[] entry, int offset, T value)
        where T : unmanaged =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(entry), offset), value);
}
