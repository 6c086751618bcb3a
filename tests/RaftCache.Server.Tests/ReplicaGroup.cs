using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RaftCache.Raft;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;
using RaftCache.StateMachine;

namespace RaftCache.Server.Tests;

/// <summary>
/// The replicas of one group of three voters, each on a host of its own, without Orleans: the test decides when each
/// replica's timer fires, which messages arrive, and how the shared clock moves. Everything runs on the test's thread,
/// as it runs on the replica service's scheduler in a silo.
/// </summary>
internal sealed class ReplicaGroup : IDisposable
{
    // Real time allowed for a reply's continuation to run on a loaded machine; the replicas' own clock is fake.
    private static readonly TimeSpan ReplyDeadline = TimeSpan.FromSeconds(30);

    private readonly List<(ulong From, ulong To, IReadOnlyList<Message> Messages)> _inFlight = [];
    private readonly Dictionary<ulong, SiloAddress> _routes = [];
    private readonly Dictionary<ulong, GroupReplica> _byMember = [];
    private readonly ServiceProvider _services;
    private readonly RaftCacheInstruments _instruments;

    public ReplicaGroup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _instruments = new RaftCacheInstruments(_services.GetRequiredService<IMeterFactory>());
        var silos = Enumerable.Range(0, 3).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1)).ToList();
        foreach (var silo in silos) _routes[MemberIds.For(silo)] = silo;
        var group = new GroupId(new Guid("6f1c5a52-86a4-4c55-9a3e-0c2b7d1e4f01"), 0);
        var voters = new ConfState { Voters = [.. _routes.Keys] };
        var replicas = new List<GroupReplica>();
        foreach (var silo in silos)
        {
            var cache = new CacheStateMachine(Options.Cache);
            cache.ApplyNoOp((long)MemStorage.BootstrapIndex);
            var replica = new GroupReplica(new Host(this, silo), group, MemStorage.CreateBootstrapped(voters), cache, NullLogger.Instance);
            _byMember[MemberIds.For(silo)] = replica;
            replicas.Add(replica);
        }

        Replicas = replicas;
    }

    /// <summary>The clock every replica reads; it moves only when the test moves it.</summary>
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>The defaults: 100 ms ticks, an election timeout of 10 ticks, a lease margin of 2.</summary>
    public RaftCacheOptions Options { get; } = new();

    public IReadOnlyList<GroupReplica> Replicas { get; }

    /// <summary>Replicas cut off from the others: messages to or from them are lost.</summary>
    public HashSet<GroupReplica> Isolated { get; } = [];

    /// <summary>
    /// What the hosts do between timer callbacks: every replica handles what it has ready, and the messages it sent
    /// arrive (unless to or from an isolated replica), until no message is left.
    /// </summary>
    public void Deliver()
    {
        for (var pass = 0; pass < 1_000; pass++)
        {
            foreach (var replica in Replicas)
            {
                if (replica.HasReady) replica.ProcessReady();
            }

            if (_inFlight.Count == 0) return;
            var batch = _inFlight.ToList();
            _inFlight.Clear();
            foreach (var (from, to, messages) in batch)
            {
                var target = _byMember[to];
                if (Isolated.Contains(_byMember[from]) || Isolated.Contains(target)) continue;
                target.Step(from, messages);
            }
        }

        throw new InvalidOperationException("The replicas kept exchanging messages.");
    }

    /// <summary>Loses the messages sent and not yet delivered.</summary>
    public void DropInFlight() => _inFlight.Clear();

    /// <summary>One tick interval passes, the timers of <paramref name="ticking"/> fire (on time), and the messages are delivered.</summary>
    public void Interval(params GroupReplica[] ticking)
    {
        Time.Advance(Options.TickInterval);
        foreach (var replica in ticking) replica.OnTimer();
        Deliver();
    }

    /// <summary>
    /// Elects <paramref name="leader"/> by firing only its timer, then lets it lead for four more intervals, so that a
    /// heartbeat round (every 3 ticks) has been acknowledged and its lease holds.
    /// </summary>
    public void Elect(GroupReplica leader)
    {
        // The randomized election timeout is below twice the election timeout.
        for (var i = 0; i < 2 * Options.ElectionTicks && !leader.IsLeader; i++) Interval(leader);
        Assert.True(leader.IsLeader, "the only replica whose timer fires campaigns and wins");
        for (var i = 0; i < 4; i++) Interval(leader);
    }

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/> through <paramref name="leader"/>, delivering until it is applied.</summary>
    public async Task PutAsync(GroupReplica leader, byte[] key, string value)
    {
        var put = leader.Execute([new CacheRequest { Operation = CacheOperation.Put, Key = key, Value = Encoding.UTF8.GetBytes(value) }], TimeSpan.FromSeconds(5));
        Deliver();
        var reply = (await put.WaitAsync(ReplyDeadline))[0];
        Assert.Equal(CacheStatusCode.Ok, reply.Status);
    }

    /// <summary>The reply to a batch of one request, once its continuation ran.</summary>
    public static async Task<CacheReply> ReplyAsync(Task<CacheReply[]> execute) => (await execute.WaitAsync(ReplyDeadline))[0];

    public void Dispose()
    {
        foreach (var replica in Replicas) replica.Dispose();
        _instruments.Dispose();
        _services.Dispose();
    }

    /// <summary>A replica's host: its identity, the shared clock and routes, and the test's network.</summary>
    private sealed class Host(ReplicaGroup owner, SiloAddress self) : IReplicaHost
    {
        public SiloAddress Self { get; } = self;

        public ulong MemberId { get; } = MemberIds.For(self);

        public RaftCacheOptions Options => owner.Options;

        public RaftCacheInstruments Instruments => owner._instruments;

        public TimeProvider Time => owner.Time;

        // Snapshots and graceful leaving call other silos; these tests need neither.
        public IRaftReplicaClient Peers => throw new NotSupportedException("No other silos in this test.");

        public ClusterMembershipSnapshot Membership { get; } = new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, MembershipVersion.MinValue);

        public bool Stopping => false;

        public IReadOnlyCollection<(ulong MemberId, SiloAddress Silo)> Routes => [.. owner._routes.Select(r => (r.Key, r.Value))];

        public bool TryRoute(ulong memberId, [NotNullWhen(true)] out SiloAddress? silo) => owner._routes.TryGetValue(memberId, out silo);

        public void LearnRoute(ulong memberId, SiloAddress silo) => owner._routes[memberId] = silo;

        // No placement: the leader leaves the configuration as it is.
        public IReadOnlyList<SiloAddress> PlacementOf(int group) => [];

        public SiloAddress? PreferredLeaderOf(int group) => null;

        public void Send(SiloAddress silo, GroupId group, ulong to, IReadOnlyList<Message> messages) => owner._inFlight.Add((MemberId, to, messages));

        // The test delivers explicitly.
        public void ScheduleFlush()
        {
        }
    }
}
