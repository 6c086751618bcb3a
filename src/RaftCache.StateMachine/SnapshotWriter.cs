using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// Buffered little-endian writer for snapshots that checksums everything it writes (XxHash64), so the reader can
/// reject altered bytes. Streams: memory use is one 64 KiB buffer whatever the snapshot size.
/// </summary>
internal sealed class SnapshotWriter : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly XxHash64 _hash = new();
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _position;

    public SnapshotWriter(Stream stream) => _stream = stream;

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        _position += CommandCodec.WriteVarint(_buffer.AsSpan(_position), value);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _buffer.Length - _position)
        {
            bytes.CopyTo(_buffer.AsSpan(_position));
            _position += bytes.Length;
            return;
        }

        Flush();
        _hash.Append(bytes);
        _stream.Write(bytes);
    }

    /// <summary>Writes the buffered bytes, then the checksum of everything written.</summary>
    public void Complete()
    {
        Flush();
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, _hash.GetCurrentHashAsUInt64());
        _stream.Write(checksum);
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int bytes)
    {
        if (_buffer.Length - _position < bytes)
        {
            Flush();
        }
    }

    private void Flush()
    {
        if (_position == 0)
        {
            return;
        }

        var span = _buffer.AsSpan(0, _position);
        _hash.Append(span);
        _stream.Write(span);
        _position = 0;
    }
}
