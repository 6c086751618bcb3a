using System.Collections.Concurrent;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Tests;

/// <summary>
/// Cuts or delays Raft messages between replicas per (from silo, to silo) pair, partitioning Raft without disturbing
/// Orleans membership (its own probes do not go through grain call filters).
/// </summary>
public sealed class RaftFaults
{
    private readonly ConcurrentDictionary<(string From, string To), bool> _cut = new();
    private readonly ConcurrentDictionary<string, int> _delayTo = new();
    private volatile int _maxDelayMs;
    private int _seed = 1;

    private long _dropped;

    /// <summary>Replica calls dropped so far (one-way deliveries vanish; two-way calls fail).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Cuts every link between <paramref name="silo"/> and the others, both ways.</summary>
    public void Isolate(SiloAddress silo, IEnumerable<SiloAddress> others)
    {
        foreach (var other in others)
        {
            if (other.Equals(silo)) continue;
            _cut[(silo.ToString(), other.ToString())] = true;
            _cut[(other.ToString(), silo.ToString())] = true;
        }
    }

    /// <summary>
    /// Cuts every link between a silo of <paramref name="side"/> and a silo of <paramref name="others"/>, both ways;
    /// silos on the same side still reach each other. Isolates a minority such as the leader with a learner.
    /// </summary>
    public void Partition(IEnumerable<SiloAddress> side, IEnumerable<SiloAddress> others)
    {
        var minority = side.ToList();
        var rest = others.Where(o => !minority.Contains(o)).ToList();
        foreach (var silo in minority) Isolate(silo, rest);
    }

    /// <summary>Whether any link is cut now.</summary>
    public bool IsPartitioned => !_cut.IsEmpty;

    /// <summary>Delays each replica call by a random time up to <paramref name="maxDelay"/>, which also reorders them.</summary>
    public void DelayUpTo(TimeSpan maxDelay) => _maxDelayMs = (int)maxDelay.TotalMilliseconds;

    /// <summary>
    /// Delays each Raft call to <paramref name="silo"/> by a random time up to <paramref name="maxDelay"/>: that
    /// replica lags, and what it receives arrives reordered (a read-index answer may overtake the entries it covers).
    /// </summary>
    public void DelayTo(SiloAddress silo, TimeSpan maxDelay) => _delayTo[silo.ToString()] = (int)maxDelay.TotalMilliseconds;

    /// <summary>Whether replica calls are being delayed now.</summary>
    public bool IsDelaying => _maxDelayMs > 0;

    /// <summary>Restores every link, keeping any delay in force.</summary>
    public void HealPartition() => _cut.Clear();

    /// <summary>Restores every link and removes delays.</summary>
    public void Heal()
    {
        _cut.Clear();
        _delayTo.Clear();
        _maxDelayMs = 0;
    }

    internal void OnDropped() => Interlocked.Increment(ref _dropped);

    internal bool IsCut(SiloAddress from, SiloAddress to) => _cut.ContainsKey((from.ToString(), to.ToString()));

    internal int NextDelayMs(SiloAddress to)
    {
        var max = Math.Max(_maxDelayMs, _delayTo.GetValueOrDefault(to.ToString()));
        if (max <= 0) return 0;
        // A cheap thread-safe pseudo-random sequence; the exact delays need not be reproducible.
        var x = (uint)Interlocked.Add(ref _seed, 0x6F4F2A35);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return (int)(x % (uint)max);
    }
}

/// <summary>The outgoing call filter of one silo that applies <see cref="RaftFaults"/> to calls of the replica interface.</summary>
internal sealed class RaftFaultFilter(RaftFaults faults, ILocalSiloDetails localSilo) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        // Only Raft traffic between replicas is cut or delayed; the façade's calls to replicas still go through, as
        // when a client's requests reach the majority side of a partition through any silo.
        if (context.InterfaceMethod?.Name is nameof(IRaftReplica.Deliver) or nameof(IRaftReplica.InstallSnapshotChunk)
            && context.InterfaceMethod.DeclaringType == typeof(IRaftReplica)
            && SystemTargetGrainId.TryParse(context.TargetId, out var target))
        {
            var to = target.GetSiloAddress();
            if (faults.IsCut(localSilo.SiloAddress, to))
            {
                faults.OnDropped();
                if (context.InterfaceMethod.Name == nameof(IRaftReplica.Deliver)) return;
                throw new SiloUnavailableException($"Test partition: {localSilo.SiloAddress} cannot reach {to}.");
            }

            var delay = faults.NextDelayMs(to);
            if (delay > 0) await Task.Delay(delay);
        }

        await context.Invoke();
    }
}
