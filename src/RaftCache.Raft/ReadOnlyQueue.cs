using RaftCache.Raft.Quorum;

namespace RaftCache.Raft;

/// <summary>
/// The leader's bookkeeping for read-index requests and heartbeat rounds (thesis §6.4).
/// </summary>
/// <remarks>
/// Every heartbeat broadcast is a numbered round; followers echo the round in their responses. When a quorum has
/// acknowledged round r, the leader knows it was still leader when r was sent, so every read registered before r
/// was sent may be served at the commit index it recorded; and the lease counts from r's sending. Rounds are
/// monotonic, so acknowledging r also settles every earlier round: one dictionary per round, no per-read state
/// beyond the request itself.
/// </remarks>
internal sealed class ReadOnlyQueue
{
    // Heartbeats older than an election timeout are useless for leases and superseded for reads; a small bound
    // keeps an unreachable quorum from growing the list.
    private const int MaxOutstandingRounds = 64;

    private readonly List<PendingRead> _reads = [];
    private readonly List<Round> _rounds = [];
    private ulong _lastSentRound;

    /// <summary>The round that the next broadcast will carry; reads registered now wait for it.</summary>
    public ulong NextRound => _lastSentRound + 1;

    public bool HasPendingReads => _reads.Count > 0;

    public void AddRequest(ulong index, ulong requestId, ulong from) =>
        _reads.Add(new PendingRead(index, requestId, from, NextRound));

    /// <summary>Starts a heartbeat round sent at <paramref name="tick"/>; the leader acknowledges it itself.</summary>
    public ulong StartRound(long tick, ulong selfId)
    {
        var round = ++_lastSentRound;
        if (_rounds.Count == MaxOutstandingRounds) _rounds.RemoveAt(0);
        var acks = new Dictionary<ulong, bool> { [selfId] = true };
        _rounds.Add(new Round(round, tick, acks));
        return round;
    }

    /// <summary>
    /// Records <paramref name="from"/>'s acknowledgement of <paramref name="round"/>. When a quorum acknowledged it,
    /// returns true with its sending tick and moves the reads it settles to <paramref name="released"/>.
    /// </summary>
    public bool RecvAck(ulong from, ulong round, JointConfig quorum, List<PendingRead> released, out long sentTick)
    {
        sentTick = 0;
        for (var k = _rounds.Count - 1; k >= 0; k--)
        {
            var r = _rounds[k];
            if (r.Id != round) continue;
            r.Acks[from] = true;
            if (quorum.VoteResult(r.Acks) != VoteResult.Won) return false;
            sentTick = r.SentTick;
            _rounds.RemoveRange(0, k + 1);
            Release(round, released);
            return true;
        }

        return false;
    }

    /// <summary>Settles a round at once (a single voter is its own quorum).</summary>
    public void Release(ulong round, List<PendingRead> released)
    {
        var n = 0;
        while (n < _reads.Count && _reads[n].Round <= round) n++;
        for (var k = 0; k < n; k++) released.Add(_reads[k]);
        _reads.RemoveRange(0, n);
    }

    public void Reset()
    {
        _reads.Clear();
        _rounds.Clear();
    }

    internal readonly record struct PendingRead(ulong Index, ulong RequestId, ulong From, ulong Round);

    private sealed record Round(ulong Id, long SentTick, Dictionary<ulong, bool> Acks);
}
