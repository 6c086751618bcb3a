using CsCheck;

namespace RaftCache.StateMachine.Tests;

/// <summary>
/// Random command sequences applied to two replicas, one of which captures views at random points, keeps applying
/// while they are alive, and later restores one (produced in chunks of random sizes, restored from pieces of other
/// random sizes) and replays the log from it (as Raft does), always give equal states, results and digests.
/// </summary>
public class ReplicaEquivalenceProperties
{
    private const int Seeds = 250;

    private static readonly CacheStateMachineOptions Options = new()
    {
        MaxKeyBytes = 6,
        MaxValueBytes = 40,
        MaxTotalBytes = 120 + (4 * CacheStateMachineOptions.EntryOverheadBytes),
        MaxEntries = 8,
        MaxTtl = TimeSpan.FromSeconds(5),
        MaxSessions = 3,
        SessionIdleTimeout = TimeSpan.FromSeconds(3),
        MaxInFlightPerSession = 6,
    };

    /// <summary>One step of the generated history; interpreted by <see cref="Build"/>.</summary>
    internal readonly record struct Step(int Action, int Key, int ValueLength, int Ttl, int TimeDelta, int Pick, byte Fill);

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 11], Gen.Int[0, 42], Gen.Int[-1, 5_300], Gen.Int[-800, 1_500], Gen.Int[0, 99], Gen.Byte)
            .Select((a, k, v, t, d, p, f) => new Step(a, k, v, t, d, p, f));

    private static readonly Gen<Step[]> HistoryGen = StepGen.Array[1, 160];

    [Fact]
    public void Two_replicas_with_views_chunked_snapshots_and_restores_at_random_points_stay_identical()
    {
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            HistoryGen.Sample(Check, seed: new PCG(17, seed).ToString(), iter: 1, threads: 1);
        }
    }

    [Fact]
    public void Invariants_hold_after_every_apply()
    {
        for (ulong seed = 1_000; seed < 1_000 + Seeds; seed++)
        {
            HistoryGen.Sample(CheckInvariants, seed: new PCG(23, seed).ToString(), iter: 1, threads: 1);
        }
    }

    /// <summary>Turns steps into encoded log entries (null = a no-op entry), playing a client with sessions.</summary>
    internal static List<byte[]?> Build(Step[] steps)
    {
        var entries = new List<byte[]?>();
        var sessions = new List<(long Id, long NextSequence, long Lowest)>();
        var sent = new List<(int Session, long Sequence, CacheCommand Command)>();
        long time = 1_000_000;
        foreach (var s in steps)
        {
            time = Math.Max(0, time + s.TimeDelta); // negative deltas: a leader whose clock lags
            var key = new[] { (byte)'k', (byte)('a' + s.Key) };
            var value = Enumerable.Repeat(s.Fill, s.ValueLength).ToArray(); // may exceed MaxValueBytes: rejected on apply
            TimeSpan? ttl = s.Ttl < 0 ? null : TimeSpan.FromMilliseconds(s.Ttl); // 0 and > 5 s are rejected on apply
            CacheCommand command;
            switch (s.Action)
            {
                case < 25: command = CacheCommand.Put(key, value, ttl, time); break;
                case < 28:
                    // Sliding expiration (the TTL field's value as the window), sometimes under an absolute cap.
                    command = CacheCommand.Put(key, value, null, time, ttl ?? TimeSpan.FromMilliseconds(s.Pick * 40),
                        s.Pick % 2 == 0 ? time + (s.Pick * 30) : null, null);
                    break;
                case < 31:
                    // A conditional put: absent, or a version that may or may not be the key's (versions are log indexes).
                    command = CacheCommand.Put(key, value, ttl, time, null, null, s.Pick % 3 == 0 ? 0 : s.Pick % (entries.Count + 1));
                    break;
                case < 33:
                    // Deltas near the limits exercise overflow; values written by puts are mostly not integers.
                    command = CacheCommand.Increment(key, s.Pick % 4 == 0 ? long.MaxValue - s.Pick : s.Pick - 50, ttl, time);
                    break;
                case < 35: command = CacheCommand.Refresh(key, time); break;
                case < 50: command = CacheCommand.Delete(key, time); break;
                case < 52: command = CacheCommand.Clear(time); break;
                case < 58: command = CacheCommand.Tick(time); break;
                case < 62:
                    command = CacheCommand.RegisterSession(time);
                    sessions.Add((entries.Count + 1, 1, 1));
                    break;
                case < 65: entries.Add(null); continue;
                case < 90 when sessions.Count > 0:
                {
                    var i = s.Pick % sessions.Count;
                    var (id, next, lowest) = sessions[i];
                    // The client answers a random prefix of its in-flight commands, so the watermark moves by jumps.
                    lowest = Math.Min(next, lowest + (s.Pick % 3));
                    var write = s.Action switch
                    {
                        < 75 => CacheCommand.Put(key, value, ttl, time),
                        < 78 => CacheCommand.Increment(key, s.Pick - 50, ttl, time),
                        < 80 => CacheCommand.Put(key, value, ttl, time, null, null, s.Pick % (entries.Count + 1)),
                        _ => CacheCommand.Delete(key, time),
                    };
                    command = write.WithSession(id, next, lowest);
                    sessions[i] = (id, next + 1, lowest);
                    sent.Add((i, next, command));
                    break;
                }

                case >= 90 when sent.Count > 0:
                {
                    // A retry (or a late duplicate) of an earlier session command, possibly out of order or stale.
                    var (_, _, original) = sent[s.Pick % sent.Count];
                    command = original;
                    break;
                }

                default: command = CacheCommand.Tick(time); break;
            }

            entries.Add(CommandCodec.Encode(command));
        }

        return entries;
    }

    private static ApplyResult? ApplyEntry(CacheStateMachine machine, long index, byte[]? entry)
    {
        if (entry is null)
        {
            machine.ApplyNoOp(index);
            return null;
        }

        return machine.Apply(index, entry);
    }

    private static void Check(Step[] steps)
    {
        var entries = Build(steps);
        var a = new CacheStateMachine(Options);
        var b = new CacheStateMachine(Options);
        StateMachineView? view = null;
        var viewDigest = 0UL;
        var results = new List<ApplyResult?>();
        for (var i = 0; i < entries.Count; i++)
        {
            var index = i + 1;
            var expected = ApplyEntry(a, index, entries[i]);
            results.Add(expected);
            Assert.Equal(expected, ApplyEntry(b, index, entries[i]));

            var roll = steps[i].Pick;
            if (roll < 12)
            {
                // The view stays alive while b applies on: b copies what it shares on write.
                view?.Dispose();
                view = b.CaptureView();
                viewDigest = b.ComputeDigest();
            }
            else if (roll < 20 && view is not null)
            {
                // Restore an older view into a fresh replica and replay the log from the start: entries at or below the
                // snapshot index are ignored, the rest must give the very same results again.
                var random = new Random((steps[i].Fill * 1_000) + i);
                var snapshot = TestLog.ProduceInChunks(view, random, random.Next(1, 300));
                var restored = TestLog.RestoreInPieces(snapshot, random, random.Next(1, 300), Options);
                Assert.Equal(viewDigest, restored.ComputeDigest());
                var snapshotIndex = restored.AppliedIndex;
                for (var j = 0; j < index; j++)
                {
                    var replay = ApplyEntry(restored, j + 1, entries[j]);
                    if (j + 1 > snapshotIndex)
                    {
                        Assert.Equal(results[j], replay);
                    }
                    else if (replay is { } ignored)
                    {
                        Assert.Equal(ApplyOutcome.Ignored, ignored.Outcome);
                    }
                }

                b = restored;
            }

            if (roll % 10 == 0 || i == entries.Count - 1)
            {
                SnapshotTests.AssertSameState(a, b);
            }
        }

        view?.Dispose();
    }

    private static void CheckInvariants(Step[] steps)
    {
        var entries = Build(steps);
        var machine = new CacheStateMachine(Options);
        for (var i = 0; i < entries.Count; i++)
        {
            ApplyEntry(machine, i + 1, entries[i]);
            Assert.True(machine.Count <= Options.MaxEntries);
            Assert.True(machine.TotalBytes <= Options.MaxTotalBytes);
            Assert.True(machine.SessionCount <= Options.MaxSessions);
            var contents = machine.GetEntriesSorted();
            Assert.Equal(machine.Count, contents.Count);
            Assert.Equal(machine.TotalBytes, contents.Sum(e => (long)e.Key.Length + e.Value.Length + CacheStateMachineOptions.EntryOverheadBytes));
            Assert.All(contents, e => Assert.True(e.DeadlineUnixMs > machine.LogTimeUnixMs));
            Assert.All(contents, e => Assert.True(machine.TryGet(e.Key, machine.LogTimeUnixMs, out var v) && v.Span.SequenceEqual(e.Value)));
            Assert.All(machine.GetSessions(), s => Assert.True(s.Results.Count <= Options.MaxInFlightPerSession && s.Results.All(r => r.Sequence >= s.LowestUnacked)));
        }
    }
}
