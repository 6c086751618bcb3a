using System.Buffers.Binary;

namespace RaftCache.Server.Transport;

/// <summary>Reads what <see cref="WireWriter"/> wrote; every overrun is a <see cref="FormatException"/>.</summary>
internal ref struct WireReader(ReadOnlyMemory<byte> input)
{
    private readonly ReadOnlyMemory<byte> _input = input;
    private int _position;

    public readonly bool End => _position == _input.Length;

    public byte ReadByte()
    {
        if (_position >= _input.Length) throw Truncated();
        return _input.Span[_position++];
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }

        throw new FormatException("A varint in the Raft message batch is longer than 64 bits.");
    }

    public ulong ReadUInt64()
    {
        if (_input.Length - _position < 8) throw Truncated();
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_input.Span[_position..]);
        _position += 8;
        return value;
    }

    public int ReadLength()
    {
        var length = ReadVarint();
        if (length > (ulong)(_input.Length - _position)) throw Truncated();
        return (int)length;
    }

    /// <summary>A slice of the input, not a copy: the batch buffer is immutable once received.</summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        var length = ReadLength();
        var slice = _input.Slice(_position, length);
        _position += length;
        return slice;
    }

    private static FormatException Truncated() => new("The Raft message batch is truncated.");
}
