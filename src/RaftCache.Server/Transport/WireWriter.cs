using System.Buffers;
using System.Buffers.Binary;

namespace RaftCache.Server.Transport;

/// <summary>Appends LEB128 varints and raw bytes to a buffer writer.</summary>
internal ref struct WireWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;

    public readonly void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    public readonly void WriteVarint(ulong value)
    {
        var span = _output.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        _output.Advance(n);
    }

    public readonly void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_output.GetSpan(8), value);
        _output.Advance(8);
    }

    public readonly void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarint((ulong)bytes.Length);
        _output.Write(bytes);
    }

    public readonly void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_output.GetSpan(16));
        _output.Advance(16);
    }
}
