using System.Collections.Concurrent;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Tests;

/// <summary>
/// Cuts or delays replica-to-replica calls per (from silo, to silo) pair, partitioning Raft without disturbing
/// Orleans membership (its own probes do not go through grain call filters).
/// </summary>
public sealed class RaftFaults
{
    private readonly ConcurrentDictionary<(string From, string To), bool> _cut = new();
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

    /// <summary>Delays each replica call by a random time up to <paramref name="maxDelay"/>, which also reorders them.</summary>
    public void DelayUpTo(TimeSpan maxDelay) => _maxDelayMs = (int)maxDelay.TotalMilliseconds;

    /// <summary>Restores every link and removes delays.</summary>
    public void Heal()
    {
        _cut.Clear();
        _maxDelayMs = 0;
    }

    internal void OnDropped() => Interlocked.Increment(ref _dropped);

    internal bool IsCut(SiloAddress from, SiloAddress to) => _cut.ContainsKey((from.ToString(), to.ToString()));

    internal int NextDelayMs()
    {
        var max = _maxDelayMs;
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
        if (context.InterfaceMethod?.DeclaringType == typeof(IRaftReplica) && SystemTargetGrainId.TryParse(context.TargetId, out var target))
        {
            var to = target.GetSiloAddress();
            if (faults.IsCut(localSilo.SiloAddress, to))
            {
                faults.OnDropped();
                if (context.InterfaceMethod.Name == nameof(IRaftReplica.Deliver)) return;
                throw new SiloUnavailableException($"Test partition: {localSilo.SiloAddress} cannot reach {to}.");
            }

            var delay = faults.NextDelayMs();
            if (delay > 0) await Task.Delay(delay);
        }

        await context.Invoke();
    }
}
