using RaftCache.Raft.Membership;
using static RaftCache.Raft.Tests.Membership.MembershipNotation;

namespace RaftCache.Raft.Tests.Membership;

public sealed class ConfChangeCodecTests
{
    public static TheoryData<string, ConfChange> Changes() => new()
    {
        { "leave joint", LeaveJoint },
        { "leave joint with context", LeaveJoint with { Context = new byte[] { 1, 2, 3 } } },
        { "one voter", Auto(AddVoter(1)) },
        { "every type", Implicit(AddVoter(4), AddLearner(5), Remove(3)) },
        { "explicit", Explicit(AddLearner(2)) },
        { "largest id", Auto(AddVoter(ulong.MaxValue)) },
        { "big context", Auto(AddVoter(7)) with { Context = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 31)).ToArray() } },
        { "many changes", Explicit([.. Enumerable.Range(1, 1000).Select(i => AddLearner((ulong)i))]) },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Decode_returns_what_Encode_was_given(string description, ConfChange change)
    {
        var encoded = ConfChangeCodec.Encode(change);
        var decoded = ConfChangeCodec.Decode(encoded);

        Assert.Equal(ConfChangeCodec.GetEncodedLength(change), encoded.Length);
        Assert.True(change.Transition == decoded.Transition, description);
        Assert.Equal(change.Changes.ToArray(), decoded.Changes.ToArray());
        Assert.True(change.Context.Span.SequenceEqual(decoded.Context.Span), description);
    }

    [Fact]
    public void Encode_writes_the_documented_version_1_layout()
    {
        var change = Implicit(AddVoter(0x0102030405060708), Remove(9)) with { Context = new byte[] { 0xAA, 0xBB } };

        byte[] expected =
        [
            1, // version
            1, // JointImplicit
            2, 0, // two changes
            0, 8, 7, 6, 5, 4, 3, 2, 1, // AddNode 0x0102030405060708
            2, 9, 0, 0, 0, 0, 0, 0, 0, // RemoveNode 9
            2, 0, 0, 0, // context length
            0xAA, 0xBB,
        ];
        Assert.Equal(expected, ConfChangeCodec.Encode(change));
    }

    [Fact]
    public void Decode_copies_the_context_so_that_the_entry_buffer_can_be_reused()
    {
        var encoded = ConfChangeCodec.Encode(Auto(AddVoter(1)) with { Context = new byte[] { 5 } });

        var decoded = ConfChangeCodec.Decode(encoded);
        encoded[^1] = 6;

        Assert.Equal(5, decoded.Context.Span[0]);
    }

    public static TheoryData<string, byte[], string> Malformed() => new()
    {
        { "empty", [], "empty" },
        { "version 0", [0, 0, 0, 0, 0, 0, 0, 0], "version 0" },
        { "version 2", [2, 0, 0, 0, 0, 0, 0, 0], "version 2" },
        { "header cut", [1, 0, 0], "truncated" },
        { "unknown transition", [1, 3, 0, 0, 0, 0, 0, 0], "transition 3" },
        { "unknown change type", [1, 0, 1, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "type 3" },
        { "changes cut", [1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], "truncated" },
        { "context length missing", [1, 0, 0, 0], "truncated" },
        { "context cut", [1, 0, 0, 0, 3, 0, 0, 0, 1, 2], "context declares 3 bytes but only 2 remain" },
        { "context length huge", [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1], "truncated" },
        { "trailing byte", [1, 0, 0, 0, 0, 0, 0, 0, 9], "1 trailing bytes" },
        { "trailing after context", [1, 0, 0, 0, 1, 0, 0, 0, 7, 8, 9], "2 trailing bytes" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Decode_rejects_malformed_data_with_a_clear_message(string description, byte[] data, string expectedMessage)
    {
        var exception = Assert.Throws<FormatException>(() => ConfChangeCodec.Decode(data));

        Assert.True(exception.Message.Contains(expectedMessage, StringComparison.Ordinal), $"{description}: {exception.Message}");
    }

    [Fact]
    public void Decode_rejects_every_truncation_of_a_valid_encoding()
    {
        var encoded = ConfChangeCodec.Encode(Implicit(AddVoter(4), AddLearner(5)) with { Context = new byte[] { 1, 2, 3 } });

        for (var length = 0; length < encoded.Length; length++)
        {
            var cut = encoded.AsSpan(0, length).ToArray();
            Assert.Throws<FormatException>(() => ConfChangeCodec.Decode(cut));
        }
    }

    [Fact]
    public void Encode_rejects_undefined_enum_values()
    {
        Assert.Throws<ArgumentException>(() => ConfChangeCodec.Encode(Change((ConfChangeTransition)5, AddVoter(1))));
        Assert.Throws<ArgumentException>(() => ConfChangeCodec.Encode(Auto(new ConfChangeSingle((ConfChangeType)5, 1))));
    }

    [Fact]
    public void Encode_rejects_more_changes_than_the_count_field_holds()
    {
        var tooMany = Explicit([.. Enumerable.Range(1, ushort.MaxValue + 1).Select(i => AddLearner((ulong)i))]);

        Assert.Throws<ArgumentException>(() => ConfChangeCodec.Encode(tooMany));
    }
}
