using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// Buffered reader matching <see cref="SnapshotWriter"/>: checksums what it consumes and turns every shortfall into
/// <see cref="SnapshotFormatException"/> (<see cref="SnapshotFormatError.Truncated"/>).
/// </summary>
internal sealed class SnapshotReader : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly XxHash64 _hash = new();
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _position;
    private int _length;
    private int _hashedUpTo;

    public SnapshotReader(Stream stream) => _stream = stream;

    public uint ReadUInt32()
    {
        Ensure(4);
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_position));
        _position += 4;
        return v;
    }

    public ushort ReadUInt16()
    {
        Ensure(2);
        var v = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_position));
        _position += 2;
        return v;
    }

    public long ReadInt64()
    {
        Ensure(8);
        var v = BinaryPrimitives.ReadInt64LittleEndian(_buffer.AsSpan(_position));
        _position += 8;
        return v;
    }

    public byte ReadByte()
    {
        Ensure(1);
        return _buffer[_position++];
    }

    public long ReadVarint(long max, string field)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                if (result > (ulong)max)
                {
                    throw Invalid($"{field} is {result}, above its limit {max}.");
                }

                return (long)result;
            }
        }

        throw Invalid($"{field} is a variable-length integer longer than ten bytes.");
    }

    /// <summary>Reads <paramref name="length"/> bytes into a new array.</summary>
    public byte[] ReadBytes(int length)
    {
        var bytes = new byte[length];
        var copied = 0;
        while (copied < length)
        {
            if (_position == _length)
            {
                Ensure(1);
            }

            var take = Math.Min(length - copied, _length - _position);
            _buffer.AsSpan(_position, take).CopyTo(bytes.AsSpan(copied));
            _position += take;
            copied += take;
        }

        return bytes;
    }

    /// <summary>Reads the trailing checksum, compares it with the bytes consumed, and checks the stream ends there.</summary>
    public void VerifyChecksumAndEnd()
    {
        HashConsumed();
        var actual = _hash.GetCurrentHashAsUInt64();
        Ensure(8);
        var expected = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(_position));
        _position += 8;
        if (expected != actual)
        {
            throw new SnapshotFormatException(SnapshotFormatError.ChecksumMismatch,
                $"The snapshot checksum is {expected:x16} but its contents hash to {actual:x16}: the snapshot is corrupt.");
        }

        if (_position != _length || _stream.Read(_buffer, 0, 1) != 0)
        {
            throw new SnapshotFormatException(SnapshotFormatError.TrailingBytes, "Bytes follow the end of the snapshot.");
        }
    }

    public static SnapshotFormatException Invalid(string message) => new(SnapshotFormatError.InvalidContent, "The snapshot is invalid: " + message);

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void HashConsumed()
    {
        _hash.Append(_buffer.AsSpan(_hashedUpTo, _position - _hashedUpTo));
        _hashedUpTo = _position;
    }

    private void Ensure(int bytes)
    {
        if (_length - _position >= bytes)
        {
            return;
        }

        HashConsumed();
        var remaining = _length - _position;
        _buffer.AsSpan(_position, remaining).CopyTo(_buffer);
        _position = 0;
        _hashedUpTo = 0;
        _length = remaining;
        while (_length < bytes)
        {
            var read = _stream.Read(_buffer, _length, _buffer.Length - _length);
            if (read == 0)
            {
                throw new SnapshotFormatException(SnapshotFormatError.Truncated, "The snapshot ends early: it is truncated.");
            }

            _length += read;
        }
    }
}
