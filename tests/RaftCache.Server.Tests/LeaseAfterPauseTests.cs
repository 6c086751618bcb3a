using System.Text;
using RaftCache.Server.Group;

namespace RaftCache.Server.Tests;

/// <summary>
/// A replica counts ticks by elapsed time, not by timer callbacks, and catches up before it consults its lease: a
/// leader whose process froze (a GC pause, SIGSTOP, a paused VM) does not answer lease reads from a lease that expired
/// meanwhile (design §2, "Leases and pauses"). The clock is fake and each replica's timer fires only when the test says.
/// </summary>
public class LeaseAfterPauseTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("k");
    // Longer than any test below moves the clock after a read, so no read ends at its deadline.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private static CacheRequest LeaseRead => new() { Operation = CacheOperation.Get, Key = Key, Consistency = ReadConsistency.Lease };

    [Fact]
    public async Task AFrozenLeaderDoesNotServeALeaseReadAfterAnotherLeaderWasElected()
    {
        using var group = new ReplicaGroup();
        var (a, b, c) = (group.Replicas[0], group.Replicas[1], group.Replicas[2]);
        group.Elect(a);
        await group.PutAsync(a, Key, "v1");
        await AssertServedFromTheLeaseAsync(group, a, "v1");

        // a freezes: its timer stops, and nothing reaches it or leaves it. The others elect a leader and write v2.
        group.Isolated.Add(a);
        var elected = false;
        for (var i = 0; i < 4 * group.Options.ElectionTicks; i++)
        {
            group.Interval(b, c);
            if (elected || !(b.IsLeader || c.IsLeader)) continue;
            elected = true;
            await group.PutAsync(b.IsLeader ? b : c, Key, "v2");
        }

        Assert.True(elected, "b and c elect a leader while a is frozen");

        // a resumes, and a lease read reaches it before its timer's late callback and before any message does.
        group.Isolated.Remove(a);
        var read = a.Execute([LeaseRead], ReadTimeout);
        a.ProcessReady();
        var reply = await ReplicaGroup.ReplyAsync(read);

        // Catching up (by two election timeouts, the bound), a's check-quorum found no quorum and it stepped down. Had the
        // pause counted as one tick, its lease would still have held, and it would have answered v1.
        Assert.Equal(CacheStatusCode.NotLeader, reply.Status);
        Assert.Null(reply.Value);
    }

    [Fact]
    public async Task ALeaseReadAfterAPauseLongerThanTheLeaseNeedsAHeartbeatRound()
    {
        using var group = new ReplicaGroup();
        var a = group.Replicas[0];
        group.Elect(a);
        await group.PutAsync(a, Key, "v1");
        await AssertServedFromTheLeaseAsync(group, a, "v1");

        // Nine intervals pass and no timer fires: past the lease (the election timeout less the margin: 8 ticks from the
        // sending of the last acknowledged round, at a's third tick as leader), too soon for check-quorum to fail.
        group.Time.Advance(group.Options.TickInterval * 9);
        var read = a.Execute([LeaseRead], ReadTimeout);
        a.ProcessReady();
        Assert.True(a.IsLeader);

        // So the read waits for a heartbeat round. Its messages are lost, and it is still waiting when a, having heard
        // from no follower for an election timeout, steps down (check-quorum): it is answered "not leader". Served from
        // the lease, it would have been answered v1 at once.
        group.DropInFlight();
        group.Isolated.Add(a);
        for (var i = 0; i < group.Options.ElectionTicks && a.IsLeader; i++) group.Interval(a);
        Assert.False(a.IsLeader);
        var reply = await ReplicaGroup.ReplyAsync(read);
        Assert.Equal(CacheStatusCode.NotLeader, reply.Status);
        Assert.Null(reply.Value);
    }

    [Fact]
    public async Task ALeaderWhoseTimerCallbackComesTwoElectionTimeoutsLateStepsDownAtOnce()
    {
        using var group = new ReplicaGroup();
        var a = group.Replicas[0];
        group.Elect(a);
        await group.PutAsync(a, Key, "v1");

        // One late callback stands for every tick of the pause: check-quorum ends two windows without hearing from the
        // followers, whose replies (if any) wait behind the callback.
        group.Time.Advance(group.Options.TickInterval * 2 * group.Options.ElectionTicks);
        a.OnTimer();
        a.ProcessReady();
        Assert.False(a.IsLeader);
    }

    /// <summary>A lease read that <paramref name="leader"/> answers without a message round.</summary>
    private static async Task AssertServedFromTheLeaseAsync(ReplicaGroup group, GroupReplica leader, string expected)
    {
        var read = leader.Execute([LeaseRead], ReadTimeout);
        // What the host's flush does, without delivering anything: only the lease can answer now.
        leader.ProcessReady();
        var reply = await ReplicaGroup.ReplyAsync(read);
        Assert.Equal(CacheStatusCode.Ok, reply.Status);
        Assert.Equal(expected, Encoding.UTF8.GetString(reply.Value!));
        group.Deliver();
    }
}
