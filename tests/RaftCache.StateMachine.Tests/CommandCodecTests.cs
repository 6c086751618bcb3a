using System.Buffers;

namespace RaftCache.StateMachine.Tests;

public class CommandCodecTests
{
    public static TheoryData<string> Commands => new() { "put", "put-ttl", "put-session", "put-ttl-session", "put-empty-value", "delete", "delete-session", "clear", "clear-session", "register", "tick", "put-conditional", "put-sliding", "put-absolute", "put-all", "increment", "increment-ttl-session", "refresh", "refresh-session" };

    internal static CacheCommand Sample(string name) => name switch
    {
        "put" => CacheCommand.Put(TestLog.B("key"), TestLog.B("value"), null, 1_700_000_000_000),
        "put-ttl" => CacheCommand.Put(TestLog.B("key"), TestLog.B("value"), TimeSpan.FromSeconds(30), 1_700_000_000_000),
        "put-session" => CacheCommand.Put(TestLog.B("k"), new byte[300], null, 5).WithSession(42, 1000, 990),
        "put-ttl-session" => CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), TimeSpan.FromDays(2), 5).WithSession(long.MaxValue, long.MaxValue, 1),
        "put-empty-value" => CacheCommand.Put(TestLog.B("k"), ReadOnlyMemory<byte>.Empty, null, 0),
        "delete" => CacheCommand.Delete(TestLog.B("gone"), 77),
        "delete-session" => CacheCommand.Delete(TestLog.B("gone"), 77).WithSession(3, 2, 2),
        "clear" => CacheCommand.Clear(123),
        "clear-session" => CacheCommand.Clear(123).WithSession(9, 10, 4),
        "register" => CacheCommand.RegisterSession(99),
        "tick" => CacheCommand.Tick(long.MaxValue),
        "put-conditional" => CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), null, 5, null, null, 0),
        "put-sliding" => CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), null, 5, TimeSpan.FromMinutes(20), null, null),
        "put-absolute" => CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), null, 5, null, 1_800_000_000_000, null),
        "put-all" => CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), TimeSpan.FromHours(1), 5, TimeSpan.FromMinutes(1), 1_800_000_000_000, long.MaxValue)
            .WithSession(7, 8, 8),
        "increment" => CacheCommand.Increment(TestLog.B("n"), -3, null, 5),
        "increment-ttl-session" => CacheCommand.Increment(TestLog.B("n"), long.MinValue, TimeSpan.FromSeconds(3), 5).WithSession(1, 2, 1),
        "refresh" => CacheCommand.Refresh(TestLog.B("k"), 5),
        "refresh-session" => CacheCommand.Refresh(TestLog.B("k"), 5).WithSession(1, 1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal static void AssertSame(CacheCommand expected, CacheCommand actual)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.TimestampUnixMs, actual.TimestampUnixMs);
        Assert.Equal(expected.Key.ToArray(), actual.Key.ToArray());
        Assert.Equal(expected.Value.ToArray(), actual.Value.ToArray());
        Assert.Equal(expected.TtlMilliseconds, actual.TtlMilliseconds);
        Assert.Equal(expected.SessionId, actual.SessionId);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.LowestUnackedSequence, actual.LowestUnackedSequence);
        Assert.Equal(expected.SlidingMilliseconds, actual.SlidingMilliseconds);
        Assert.Equal(expected.AbsoluteDeadlineUnixMs, actual.AbsoluteDeadlineUnixMs);
        Assert.Equal(expected.ExpectedVersion, actual.ExpectedVersion);
        Assert.Equal(expected.Delta, actual.Delta);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_kind_survives_an_encode_decode_round_trip(string name)
    {
        var command = Sample(name);
        var bytes = CommandCodec.Encode(command);
        Assert.Equal(CommandCodec.GetEncodedLength(command), bytes.Length);
        AssertSame(command, CommandCodec.Decode(bytes));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Encoding_into_a_buffer_writer_gives_the_same_bytes(string name)
    {
        var command = Sample(name);
        var writer = new ArrayBufferWriter<byte>();
        CommandCodec.Encode(command, writer);
        Assert.Equal(CommandCodec.Encode(command), writer.WrittenSpan.ToArray());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_truncation_of_an_encoded_command_is_rejected(string name)
    {
        var bytes = CommandCodec.Encode(Sample(name));
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes.AsMemory(0, length)));
            Assert.Equal(length == 0 ? CommandDecodeError.Empty : CommandDecodeError.Truncated, e.Reason);
        }
    }

    [Fact]
    public void Decoded_key_and_value_point_into_the_payload_without_copying()
    {
        var bytes = CommandCodec.Encode(Sample("put"));
        var decoded = CommandCodec.Decode(bytes);
        bytes[^1] ^= 0xFF;
        Assert.Equal(bytes[^1], decoded.Value.Span[^1]);
    }

    [Fact]
    public void An_unknown_version_is_rejected()
    {
        var bytes = CommandCodec.Encode(Sample("put"));
        bytes[0] = 2;
        Assert.Equal(CommandDecodeError.UnknownVersion, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(255)]
    public void An_unknown_kind_is_rejected(byte kind)
    {
        var bytes = CommandCodec.Encode(Sample("tick"));
        bytes[1] = kind;
        Assert.Equal(CommandDecodeError.UnknownKind, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Theory]
    [InlineData("tick", 1)]
    [InlineData("register", 1)]
    [InlineData("delete", 2)]
    [InlineData("put", 32)]
    [InlineData("delete", 4)]
    public void Flags_the_kind_does_not_allow_are_rejected(string name, byte flag)
    {
        var bytes = CommandCodec.Encode(Sample(name));
        bytes[2] |= flag;
        Assert.Equal(CommandDecodeError.InvalidFlags, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        var bytes = CommandCodec.Encode(Sample("delete"));
        var longer = bytes.Append((byte)0).ToArray();
        Assert.Equal(CommandDecodeError.TrailingBytes, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(longer)).Reason);
    }

    [Fact]
    public void An_overlong_variable_length_integer_is_rejected()
    {
        // Delete header, then a key length of eleven continuation bytes.
        var bytes = CommandCodec.Encode(Sample("delete"))[..11].Concat(Enumerable.Repeat((byte)0xFF, 10)).Append((byte)1).ToArray();
        Assert.Equal(CommandDecodeError.MalformedInteger, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void A_length_beyond_the_payload_is_reported_as_truncation()
    {
        var bytes = CommandCodec.Encode(Sample("delete"));
        bytes[11] = 100; // key length 100, but only 4 key bytes follow
        Assert.Equal(CommandDecodeError.Truncated, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void A_session_flag_with_session_id_zero_is_rejected()
    {
        var bytes = CommandCodec.Encode(Sample("clear-session"));
        bytes[11] = 0; // session id varint (9 fits one byte)
        Assert.Equal(CommandDecodeError.InvalidFlags, Assert.Throws<CommandDecodeException>(() => CommandCodec.Decode(bytes)).Reason);
    }

    [Fact]
    public void A_put_of_sixteen_byte_key_and_hundred_byte_value_with_ttl_and_session_encodes_compactly()
    {
        var command = CacheCommand.Put(new byte[16], new byte[100], TimeSpan.FromMinutes(5), 1_700_000_000_000).WithSession(1234, 5000, 4990);
        // 11 header + 2+2+2 session + 3 TTL + 1+16 key + 1+100 value.
        Assert.Equal(138, CommandCodec.Encode(command).Length);
    }

    [Fact]
    public void Encoding_refuses_a_destination_that_is_too_short()
    {
        var command = Sample("put");
        Assert.Throws<ArgumentException>(() => CommandCodec.Encode(command, new byte[CommandCodec.GetEncodedLength(command) - 1]));
    }

    [Fact]
    public void Only_writes_can_carry_a_session()
    {
        Assert.Throws<InvalidOperationException>(() => CacheCommand.Tick(1).WithSession(1, 1, 1));
        Assert.Throws<InvalidOperationException>(() => CacheCommand.RegisterSession(1).WithSession(1, 1, 1));
    }

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(5_000L, 1L)]
    [InlineData(10_001L, 2L)]
    [InlineData(0L, 0L)]
    [InlineData(-5_000L, 0L)]
    [InlineData(-20_000L, -2L)]
    public void A_ttl_is_rounded_up_to_whole_milliseconds_and_non_positive_ttls_stay_non_positive(long ticks, long expectedMs)
    {
        Assert.Equal(expectedMs, CacheCommand.Put(TestLog.B("k"), default, TimeSpan.FromTicks(ticks), 0).TtlMilliseconds);
    }
}
