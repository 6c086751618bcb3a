using System.Buffers.Binary;
using System.IO.Hashing;

namespace RaftCache.StateMachine.Tests;

public class ChunkedRestoreTests
{
    /// <summary>A state small enough to corrupt at every byte: sessions with results, entries with and without TTL.</summary>
    private static byte[] SmallSnapshot()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1_000);
        log.Apply(CacheCommand.Put(TestLog.B("s1"), TestLog.B("x"), null, 1_001).WithSession(s, 1, 1));
        log.Apply(CacheCommand.Put(TestLog.B("s2"), TestLog.B("y"), TimeSpan.FromSeconds(9), 1_002).WithSession(s, 2, 1));
        Churn.Fill(30, 1_003, log);
        return log.Machine.CreateSnapshot();
    }

    [Fact]
    public void Restoring_in_pieces_of_any_size_gives_the_same_state_as_restoring_the_whole_buffer()
    {
        var source = SnapshotTests.BuildState();
        new Churn(seed: 3, startTime: 1_500).Apply(3_000, source);
        var snapshot = source.Machine.CreateSnapshot();
        var whole = new CacheStateMachine();
        whole.Restore(snapshot);
        SnapshotTests.AssertSameState(source.Machine, whole);
        foreach (var maxPiece in new[] { 1, 2, 9, 100, 4_096, 70_000 })
        {
            for (var seed = 1; seed <= 3; seed++)
            {
                SnapshotTests.AssertSameState(whole, TestLog.RestoreInPieces(snapshot, new Random(seed * maxPiece), maxPiece));
            }
        }
    }

    [Fact]
    public void Every_corrupted_byte_fed_in_random_pieces_gives_a_typed_error_and_no_state()
    {
        var snapshot = SmallSnapshot();
        var random = new Random(17);
        for (var position = 0; position < snapshot.Length; position++)
        {
            var corrupt = (byte[])snapshot.Clone();
            corrupt[position] ^= (byte)random.Next(1, 256);
            AssertRejected(corrupt, random, reason: null);
        }
    }

    [Fact]
    public void Every_truncation_fed_in_random_pieces_is_reported_as_truncated()
    {
        var snapshot = SmallSnapshot();
        var random = new Random(19);
        for (var length = 0; length < snapshot.Length; length++)
        {
            AssertRejected(snapshot.AsSpan(0, length).ToArray(), random, SnapshotFormatError.Truncated);
        }
    }

    [Fact]
    public void Bytes_after_the_checksum_are_trailing_bytes_whether_in_the_same_piece_or_a_later_one()
    {
        var snapshot = SmallSnapshot();
        var restorer = new SnapshotRestorer();
        restorer.Append(snapshot);
        Assert.True(restorer.IsComplete);
        Assert.Equal(SnapshotFormatError.TrailingBytes, Assert.Throws<SnapshotFormatException>(() => restorer.Append(new byte[1])).Reason);
        Assert.Equal(SnapshotFormatError.TrailingBytes, Assert.Throws<SnapshotFormatException>(restorer.Complete).Reason);

        var longer = snapshot.Append((byte)0).ToArray();
        AssertRejected(longer, new Random(1), SnapshotFormatError.TrailingBytes);
    }

    [Theory]
    [InlineData(0x04)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void An_entry_flag_unknown_to_this_build_is_a_format_error_even_with_a_valid_checksum(byte flags)
    {
        var log = new TestLog();
        log.Put("k", "v", ts: 1);
        var snapshot = log.Machine.CreateSnapshot();
        const int entryStart = 48; // header, no sessions
        Assert.Equal(0, snapshot[entryStart]);
        snapshot[entryStart] = flags;
        BinaryPrimitives.WriteUInt64LittleEndian(snapshot.AsSpan(snapshot.Length - 8), XxHash64.HashToUInt64(snapshot.AsSpan(0, snapshot.Length - 8)));
        var e = Assert.Throws<SnapshotFormatException>(() => new CacheStateMachine().Restore(snapshot));
        Assert.Equal(SnapshotFormatError.InvalidContent, e.Reason);
        Assert.Contains("unknown", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_beyond_the_receivers_limits_is_refused_as_soon_as_its_header_arrives()
    {
        var log = new TestLog();
        Churn.Fill(20, 1, log);
        var snapshot = log.Machine.CreateSnapshot();
        var restorer = new SnapshotRestorer(new CacheStateMachineOptions { MaxEntries = 10 });
        Assert.Equal(SnapshotFormatError.ExceedsLimits, Assert.Throws<SnapshotFormatException>(() => restorer.Append(snapshot.AsSpan(0, 48))).Reason);
        Assert.Equal(SnapshotFormatError.ExceedsLimits, Assert.Throws<SnapshotFormatException>(() => restorer.Append(snapshot.AsSpan(48))).Reason);
    }

    [Fact]
    public void A_restorer_gives_its_state_machine_once_with_the_restorers_options()
    {
        var options = new CacheStateMachineOptions { MaxEntries = 100, MaxSessions = 5 };
        var restorer = new SnapshotRestorer(options);
        restorer.Append(SmallSnapshot());
        var machine = restorer.Complete();
        Assert.Equal(100, machine.Options.MaxEntries);
        Assert.Equal(5, machine.Options.MaxSessions);
        Assert.Equal(restorer.BytesReceived, SmallSnapshot().Length);
        Assert.Throws<InvalidOperationException>(restorer.Complete);
        Assert.Throws<InvalidOperationException>(() => restorer.Append(new byte[1]));
    }

    /// <summary>Feeds <paramref name="bytes"/> in random pieces: some call must throw, every later call too, and no state comes out.</summary>
    private static void AssertRejected(byte[] bytes, Random random, SnapshotFormatError? reason)
    {
        var restorer = new SnapshotRestorer();
        SnapshotFormatException? error = null;
        var rest = bytes.AsSpan();
        while (!rest.IsEmpty && error is null)
        {
            var size = Math.Min(rest.Length, random.Next(1, 64));
            try
            {
                restorer.Append(rest[..size]);
            }
            catch (SnapshotFormatException e)
            {
                error = e;
            }

            rest = rest[size..];
        }

        if (error is null)
        {
            Assert.False(restorer.IsComplete);
            error = Assert.Throws<SnapshotFormatException>(restorer.Complete);
        }

        if (reason is { } expected)
        {
            Assert.Equal(expected, error.Reason);
        }

        Assert.False(restorer.IsComplete);
        Assert.Equal(error.Reason, Assert.Throws<SnapshotFormatException>(restorer.Complete).Reason);
        Assert.Equal(error.Reason, Assert.Throws<SnapshotFormatException>(() => restorer.Append(new byte[1])).Reason);
    }
}
