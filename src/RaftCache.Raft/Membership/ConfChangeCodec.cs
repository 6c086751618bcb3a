using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RaftCache.Raft.Membership;

/// <summary>
/// The binary form of a <see cref="ConfChange"/> in the data of a <see cref="EntryType.ConfChange"/> entry:
/// versioned, little-endian. Decoding anything else fails loudly.
/// </summary>
/// <remarks>
/// Version 1 layout: <c>version:u8 = 1</c>, <c>transition:u8</c>, <c>count:u16</c>, then <c>count</c> times
/// (<c>type:u8</c>, <c>node id:u64</c>), then <c>context length:u32</c> and the context bytes. Nothing may follow.
/// Conf changes live in the replicated log forever (until compacted), so a replica must never guess at an entry it
/// cannot read: every deviation is a <see cref="FormatException"/>.
/// </remarks>
public static class ConfChangeCodec
{
    /// <summary>The format version written by <see cref="Encode"/>.</summary>
    public const byte Version = 1;

    private const int HeaderSize = 1 + 1 + 2;
    private const int ChangeSize = 1 + 8;
    private const int ContextLengthSize = 4;

    /// <summary>The number of bytes <see cref="Encode"/> produces for <paramref name="change"/>.</summary>
    public static int GetEncodedLength(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var count = change.Changes.IsDefault ? 0 : change.Changes.Length;
        return HeaderSize + (count * ChangeSize) + ContextLengthSize + change.Context.Length;
    }

    /// <summary>Encodes <paramref name="change"/>.</summary>
    /// <exception cref="ArgumentException">More than 65535 changes, or an undefined transition or change type.</exception>
    public static byte[] Encode(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var changes = change.Changes.IsDefault ? [] : change.Changes;
        if (changes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A conf change holds at most {ushort.MaxValue} changes, not {changes.Length}.", nameof(change));
        }

        if (!Enum.IsDefined(change.Transition))
        {
            throw new ArgumentException($"Unknown conf change transition {(byte)change.Transition}.", nameof(change));
        }

        var buffer = new byte[GetEncodedLength(change)];
        var span = buffer.AsSpan();
        span[0] = Version;
        span[1] = (byte)change.Transition;
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)changes.Length);
        var offset = HeaderSize;
        foreach (var single in changes)
        {
            if (!Enum.IsDefined(single.Type))
            {
                throw new ArgumentException($"Unknown conf change type {(byte)single.Type} for node {single.NodeId}.", nameof(change));
            }

            span[offset] = (byte)single.Type;
            BinaryPrimitives.WriteUInt64LittleEndian(span[(offset + 1)..], single.NodeId);
            offset += ChangeSize;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)change.Context.Length);
        change.Context.Span.CopyTo(span[(offset + ContextLengthSize)..]);
        return buffer;
    }

    /// <summary>Decodes an encoded change.</summary>
    /// <exception cref="FormatException">Unknown version, truncated or malformed data.</exception>
    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new FormatException("Conf change data is empty.");
        }

        if (data[0] != Version)
        {
            throw new FormatException($"Unknown conf change format version {data[0]} (this build reads version {Version}).");
        }

        if (data.Length < HeaderSize)
        {
            throw Truncated("header", HeaderSize, data.Length);
        }

        var transition = (ConfChangeTransition)data[1];
        if (!Enum.IsDefined(transition))
        {
            throw new FormatException($"Unknown conf change transition {data[1]}.");
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        var offset = HeaderSize;
        var needed = offset + (count * ChangeSize);
        if (data.Length < needed)
        {
            throw Truncated($"{count} changes", needed, data.Length);
        }

        var changes = new ConfChangeSingle[count];
        for (var i = 0; i < count; i++)
        {
            var type = (ConfChangeType)data[offset];
            if (!Enum.IsDefined(type))
            {
                throw new FormatException($"Unknown conf change type {data[offset]} in change {i}.");
            }

            changes[i] = new ConfChangeSingle(type, BinaryPrimitives.ReadUInt64LittleEndian(data[(offset + 1)..]));
            offset += ChangeSize;
        }

        if (data.Length < offset + ContextLengthSize)
        {
            throw Truncated("context length", offset + ContextLengthSize, data.Length);
        }

        var contextLength = BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
        offset += ContextLengthSize;
        var remaining = data.Length - offset;
        if (contextLength > (uint)remaining)
        {
            throw new FormatException($"Conf change data truncated: the context declares {contextLength} bytes but only {remaining} remain.");
        }

        if (contextLength < (uint)remaining)
        {
            throw new FormatException($"Conf change data has {remaining - (int)contextLength} trailing bytes after the context.");
        }

        return new ConfChange
        {
            Transition = transition,
            Changes = ImmutableCollectionsMarshal.AsImmutableArray(changes),
            Context = contextLength == 0 ? ReadOnlyMemory<byte>.Empty : data[offset..].ToArray(),
        };
    }

    private static FormatException Truncated(string part, int needed, int actual) =>
        new($"Conf change data truncated in the {part}: needs at least {needed} bytes, has {actual}.");
}
