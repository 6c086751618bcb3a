using System.Buffers;
using System.Buffers.Binary;

namespace RaftCache.StateMachine;

/// <summary>
/// The versioned binary encoding of <see cref="CacheCommand"/>, hand-written over <see cref="BinaryPrimitives"/>
/// because it runs for every committed entry on every replica.
/// </summary>
/// <remarks>
/// Version 1 layout: <c>version:u8 kind:u8 flags:u8 timestamp:i64le</c>, then, if flag 1 (session) is set,
/// <c>sessionId sequence lowestUnacked</c> as unsigned LEB128 varints; then for Put: <c>ttlMs:varint</c> if flag 2
/// (TTL) is set, <c>expectedVersion:varint</c> if flag 4, <c>slidingMs:varint</c> if flag 8,
/// <c>absoluteDeadlineUnixMs:varint</c> if flag 16, then <c>keyLength:varint key valueLength:varint value</c>; for
/// Increment: <c>ttlMs:varint</c> if flag 2, <c>keyLength:varint key delta:i64le</c>; for Delete and Refresh:
/// <c>keyLength:varint key</c>. Clear, RegisterSession and Tick have no body. Optional fields sit behind flags, so a
/// command that does not use them is encoded exactly as before they existed. Decoding rejects unknown versions, kinds and flags, truncation and
/// trailing bytes: a committed entry is never half understood.
/// </remarks>
public static class CommandCodec
{
    /// <summary>The format version this build writes and reads.</summary>
    public const byte Version = 1;

    /// <summary>Upper bound of encoded bytes beyond key and value lengths (header, session, TTL, lengths).</summary>
    public const int MaxOverheadBytes = HeaderBytes + (3 * MaxVarintBytes) + (6 * MaxVarintBytes);

    private const int HeaderBytes = 11;
    private const int MaxVarintBytes = 10;
    private const byte FlagSession = 1;
    private const byte FlagTtl = 2;
    private const byte FlagCondition = 4;
    private const byte FlagSliding = 8;
    private const byte FlagAbsolute = 16;

    /// <summary>Exact number of bytes <see cref="Encode(in CacheCommand, Span{byte})"/> writes for <paramref name="command"/>.</summary>
    public static int GetEncodedLength(in CacheCommand command)
    {
        var length = HeaderBytes;
        if (command.HasSession)
        {
            length += VarintLength((ulong)command.SessionId) + VarintLength((ulong)command.Sequence)
                + VarintLength((ulong)command.LowestUnackedSequence);
        }

        switch (command.Kind)
        {
            case CommandKind.Put:
                if (command.TtlMilliseconds is { } ttl)
                {
                    length += VarintLength((ulong)ttl);
                }

                length += OptionalLength(command.ExpectedVersion) + OptionalLength(command.SlidingMilliseconds)
                    + OptionalLength(command.AbsoluteDeadlineUnixMs)
                    + VarintLength((ulong)command.Key.Length) + command.Key.Length
                    + VarintLength((ulong)command.Value.Length) + command.Value.Length;
                break;
            case CommandKind.Increment:
                length += OptionalLength(command.TtlMilliseconds) + VarintLength((ulong)command.Key.Length) + command.Key.Length + sizeof(long);
                break;
            case CommandKind.Delete or CommandKind.Refresh:
                length += VarintLength((ulong)command.Key.Length) + command.Key.Length;
                break;
        }

        return length;
    }

    /// <summary>Encodes into a new array.</summary>
    public static byte[] Encode(in CacheCommand command)
    {
        var bytes = new byte[GetEncodedLength(command)];
        Encode(command, bytes);
        return bytes;
    }

    /// <summary>Encodes into <paramref name="writer"/>.</summary>
    public static void Encode(in CacheCommand command, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(command);
        Encode(command, writer.GetSpan(length));
        writer.Advance(length);
    }

    /// <summary>Encodes into <paramref name="destination"/> and returns the number of bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="GetEncodedLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Kind, TTL or session fields cannot be encoded (unknown kind, negative values); validate first.</exception>
    public static int Encode(in CacheCommand command, Span<byte> destination)
    {
        if (command.Kind is < CommandKind.Put or > CommandKind.Refresh)
        {
            throw new ArgumentOutOfRangeException(nameof(command), command.Kind, "Unknown command kind.");
        }

        if (command.TtlMilliseconds < 0 || command.SessionId < 0 || command.Sequence < 0 || command.LowestUnackedSequence < 0
            || command.ExpectedVersion < 0 || command.SlidingMilliseconds < 0 || command.AbsoluteDeadlineUnixMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(command), "TTL, expiry, version and session fields of an encoded command cannot be negative; validate the command first.");
        }

        var length = GetEncodedLength(command);
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the command needs {length}.", nameof(destination));
        }

        var flags = Flags(command);
        destination[0] = Version;
        destination[1] = (byte)command.Kind;
        destination[2] = flags;
        BinaryPrimitives.WriteInt64LittleEndian(destination[3..], command.TimestampUnixMs);
        var position = HeaderBytes;
        if (command.HasSession)
        {
            position += WriteVarint(destination[position..], (ulong)command.SessionId);
            position += WriteVarint(destination[position..], (ulong)command.Sequence);
            position += WriteVarint(destination[position..], (ulong)command.LowestUnackedSequence);
        }

        switch (command.Kind)
        {
            case CommandKind.Put:
                position += WriteOptional(destination[position..], command.TtlMilliseconds);
                position += WriteOptional(destination[position..], command.ExpectedVersion);
                position += WriteOptional(destination[position..], command.SlidingMilliseconds);
                position += WriteOptional(destination[position..], command.AbsoluteDeadlineUnixMs);
                position += WriteBytes(destination[position..], command.Key.Span);
                position += WriteBytes(destination[position..], command.Value.Span);
                break;
            case CommandKind.Increment:
                position += WriteOptional(destination[position..], command.TtlMilliseconds);
                position += WriteBytes(destination[position..], command.Key.Span);
                BinaryPrimitives.WriteInt64LittleEndian(destination[position..], command.Delta);
                position += sizeof(long);
                break;
            case CommandKind.Delete or CommandKind.Refresh:
                position += WriteBytes(destination[position..], command.Key.Span);
                break;
        }

        return position;
    }

    private static byte Flags(in CacheCommand command)
    {
        var flags = command.HasSession ? FlagSession : 0;
        if (command.Kind is CommandKind.Put or CommandKind.Increment && command.TtlMilliseconds.HasValue) flags |= FlagTtl;
        if (command.Kind == CommandKind.Put)
        {
            if (command.ExpectedVersion.HasValue) flags |= FlagCondition;
            if (command.SlidingMilliseconds.HasValue) flags |= FlagSliding;
            if (command.AbsoluteDeadlineUnixMs.HasValue) flags |= FlagAbsolute;
        }

        return (byte)flags;
    }

    private static int OptionalLength(long? value) => value is { } v ? VarintLength((ulong)v) : 0;

    private static int WriteOptional(Span<byte> destination, long? value) => value is { } v ? WriteVarint(destination, (ulong)v) : 0;

    private static long? ReadOptional(ReadOnlySpan<byte> span, ref int position, byte flags, byte flag) =>
        (flags & flag) != 0 ? ReadVarintInt64(span, ref position) : null;

    /// <summary>Decodes a command; its key and value point into <paramref name="payload"/> (no copy).</summary>
    /// <exception cref="CommandDecodeException">The payload is empty, truncated, of an unknown version or kind, or has trailing bytes.</exception>
    public static CacheCommand Decode(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        if (span.IsEmpty)
        {
            throw Fail(CommandDecodeError.Empty, "The command payload is empty.");
        }

        if (span[0] != Version)
        {
            throw Fail(CommandDecodeError.UnknownVersion, $"The command has format version {span[0]}; this build reads version {Version} only.");
        }

        if (span.Length < HeaderBytes)
        {
            throw Fail(CommandDecodeError.Truncated, $"The command header needs {HeaderBytes} bytes; the payload has {span.Length}.");
        }

        var kind = (CommandKind)span[1];
        if (kind is < CommandKind.Put or > CommandKind.Refresh)
        {
            throw Fail(CommandDecodeError.UnknownKind, $"Unknown command kind {span[1]}.");
        }

        var flags = span[2];
        var allowed = kind switch
        {
            CommandKind.Put => FlagSession | FlagTtl | FlagCondition | FlagSliding | FlagAbsolute,
            CommandKind.Increment => FlagSession | FlagTtl,
            CommandKind.Delete or CommandKind.Clear or CommandKind.Refresh => FlagSession,
            _ => 0,
        };
        if ((flags & ~allowed) != 0)
        {
            throw Fail(CommandDecodeError.InvalidFlags, $"Flags 0x{flags:x2} are not valid for a {kind} command.");
        }

        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(span[3..]);
        var position = HeaderBytes;
        long sessionId = 0, sequence = 0, lowest = 0;
        if ((flags & FlagSession) != 0)
        {
            sessionId = ReadVarintInt64(span, ref position);
            sequence = ReadVarintInt64(span, ref position);
            lowest = ReadVarintInt64(span, ref position);
            if (sessionId == 0)
            {
                throw Fail(CommandDecodeError.InvalidFlags, "The session flag is set but the session id is 0.");
            }
        }

        long? ttl = ReadOptional(span, ref position, flags, FlagTtl);
        ReadOnlyMemory<byte> key = default, value = default;
        CommandExtras extras = default;
        switch (kind)
        {
            case CommandKind.Put:
                var expected = ReadOptional(span, ref position, flags, FlagCondition);
                var sliding = ReadOptional(span, ref position, flags, FlagSliding);
                var absolute = ReadOptional(span, ref position, flags, FlagAbsolute);
                extras = new CommandExtras(sliding, absolute, expected, 0);
                key = ReadBytes(payload, span, ref position);
                value = ReadBytes(payload, span, ref position);
                break;
            case CommandKind.Increment:
                key = ReadBytes(payload, span, ref position);
                if (span.Length - position < sizeof(long))
                {
                    throw Fail(CommandDecodeError.Truncated, "The payload ends inside an Increment's delta.");
                }

                extras = new CommandExtras(null, null, null, BinaryPrimitives.ReadInt64LittleEndian(span[position..]));
                position += sizeof(long);
                break;
            case CommandKind.Delete or CommandKind.Refresh:
                key = ReadBytes(payload, span, ref position);
                break;
        }

        if (position != span.Length)
        {
            throw Fail(CommandDecodeError.TrailingBytes, $"{span.Length - position} bytes follow the end of the {kind} command.");
        }

        return new CacheCommand(kind, timestamp, key, value, ttl, sessionId, sequence, lowest, extras);
    }

    private static int WriteBytes(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        var n = WriteVarint(destination, (ulong)bytes.Length);
        bytes.CopyTo(destination[n..]);
        return n + bytes.Length;
    }

    internal static int VarintLength(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    internal static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    private static ReadOnlyMemory<byte> ReadBytes(ReadOnlyMemory<byte> payload, ReadOnlySpan<byte> span, ref int position)
    {
        var length = ReadVarintInt64(span, ref position);
        if (length > span.Length - position)
        {
            throw Fail(CommandDecodeError.Truncated, $"A field of {length} bytes at offset {position} runs past the end of the {span.Length}-byte payload.");
        }

        var slice = payload.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    private static long ReadVarintInt64(ReadOnlySpan<byte> span, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw Fail(CommandDecodeError.Truncated, "The payload ends inside a variable-length integer.");
            }

            var b = span[position++];
            if (shift == 63 && b > 1)
            {
                throw Fail(CommandDecodeError.MalformedInteger, "A variable-length integer exceeds the 64-bit range.");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                if (result > long.MaxValue)
                {
                    throw Fail(CommandDecodeError.MalformedInteger, "A variable-length integer exceeds the signed 64-bit range.");
                }

                return (long)result;
            }
        }

        throw Fail(CommandDecodeError.MalformedInteger, "A variable-length integer is longer than ten bytes.");
    }

    private static CommandDecodeException Fail(CommandDecodeError reason, string message) => new(reason, message);
}
