using System.Buffers;

namespace RaftCache.Server.Transport;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, from one buffer or from a pooled, segmented one; every overrun is a
/// <see cref="FormatException"/>. Byte fields are copied out, because a pooled input is returned once decoded.
/// </summary>
internal ref struct WireReader
{
    private SequenceReader<byte> _reader;

    public WireReader(ReadOnlySequence<byte> input) => _reader = new SequenceReader<byte>(input);

    public WireReader(ReadOnlyMemory<byte> input) => _reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));

    public readonly bool End => _reader.End;

    public readonly long Remaining => _reader.Remaining;

    public byte ReadByte() => _reader.TryRead(out var value) ? value : throw Truncated();

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }

        throw new FormatException("A varint in a Raft message is longer than 64 bits.");
    }

    public ulong ReadUInt64() => _reader.TryReadLittleEndian(out long value) ? (ulong)value : throw Truncated();

    public int ReadLength()
    {
        var length = ReadVarint();
        if (length > (ulong)_reader.Remaining) throw Truncated();
        return (int)length;
    }

    /// <summary>A length-prefixed byte field, copied into a new array.</summary>
    public byte[] ReadBytes()
    {
        var length = ReadLength();
        if (length == 0) return [];
        var bytes = GC.AllocateUninitializedArray<byte>(length);
        if (!_reader.TryCopyTo(bytes)) throw Truncated();
        _reader.Advance(length);
        return bytes;
    }

    public Guid ReadGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!_reader.TryCopyTo(bytes)) throw Truncated();
        _reader.Advance(16);
        return new Guid(bytes);
    }

    private static FormatException Truncated() => new("A Raft message is truncated.");
}
