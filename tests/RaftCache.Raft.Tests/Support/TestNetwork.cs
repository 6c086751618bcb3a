using System.Collections.Immutable;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Support;

/// <summary>One node of a <see cref="TestNetwork"/>: a RawNode, its storage and what it applied.</summary>
public sealed class TestNode
{
    internal TestNode(ulong id, MemStorage storage, Func<RaftConfig, RaftConfig> configure, int seed, ulong applied = 0)
    {
        Id = id;
        Storage = storage;
        Configure = configure;
        Seed = seed;
        Node = new RawNode(configure(new RaftConfig { Id = id, Random = new Random(seed), Applied = applied }), storage);
        Applied = applied;
    }

    public ulong Id { get; }

    public MemStorage Storage { get; }

    internal Func<RaftConfig, RaftConfig> Configure { get; }

    internal int Seed { get; }

    public RawNode Node { get; private set; }

    public List<Entry> AppliedEntries { get; } = [];

    public List<ReadState> ReadStates { get; } = [];

    public ulong Applied { get; private set; }

    public int SnapshotsApplied { get; private set; }

    public StateRole Role => Node.Status.SoftState.Role;

    public ulong Term => Node.Status.HardState.Term;

    public ulong Commit => Node.Status.HardState.Commit;

    /// <summary>Application payloads applied, in order (empty entries skipped).</summary>
    public IEnumerable<string> AppliedData() =>
        AppliedEntries.Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty).Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span));

    /// <summary>Handles one Ready the way a driver does: persist, collect messages, apply, advance.</summary>
    public ImmutableArray<Message> HandleReady()
    {
        if (!Node.HasReady) return [];
        var ready = Node.GetReady();
        if (ready.Snapshot is { } snapshot)
        {
            Storage.ApplySnapshot(snapshot);
            SnapshotsApplied++;
            Applied = snapshot.Metadata.Index;
        }

        Storage.Append(ready.Entries);
        if (ready.HardState is { } hs) Storage.SetHardState(hs);
        foreach (var e in ready.CommittedEntries)
        {
            AppliedEntries.Add(e);
            if (e.Type == EntryType.ConfChange)
            {
                var cs = Node.ApplyConfChange(ConfChangeCodec.Decode(e.Data.Span));
                Storage.SetConfState(cs);
            }

            Applied = e.Index;
        }

        ReadStates.AddRange(ready.ReadStates);
        Node.Advance(ready);
        return ready.Messages;
    }

    /// <summary>Handles Readies until none is left; returns every message produced.</summary>
    public List<Message> Drain()
    {
        var all = new List<Message>();
        while (Node.HasReady) all.AddRange(HandleReady());
        return all;
    }

    /// <summary>Simulates a crash and restart: volatile state is lost, storage kept.</summary>
    public void Restart()
    {
        Node = new RawNode(Configure(new RaftConfig { Id = Id, Random = new Random(Seed + 1000), Applied = Applied }), Storage);
    }
}

/// <summary>
/// A deterministic in-memory network of nodes: messages are queued and delivered in FIFO order by
/// <see cref="Stabilize"/>, with optional cut links and drop rules. No threads, no clock.
/// </summary>
public sealed class TestNetwork
{
    private readonly SortedDictionary<ulong, TestNode> _nodes = [];
    private readonly Queue<Message> _queue = new();
    private readonly HashSet<(ulong, ulong)> _cut = [];
    private readonly Func<RaftConfig, RaftConfig> _configure;

    private TestNetwork(Func<RaftConfig, RaftConfig> configure) => _configure = configure;

    /// <summary>A group of <paramref name="voters"/> voters (ids 1..n) bootstrapped together.</summary>
    public static TestNetwork Create(int voters, Func<RaftConfig, RaftConfig>? configure = null, int seed = 1, int learners = 0)
    {
        var net = new TestNetwork(configure ?? (c => c));
        var cs = new ConfState
        {
            Voters = [.. Enumerable.Range(1, voters).Select(i => (ulong)i)],
            Learners = [.. Enumerable.Range(voters + 1, learners).Select(i => (ulong)i)],
        };
        for (var i = 1; i <= voters + learners; i++)
            net._nodes[(ulong)i] = new TestNode((ulong)i, MemStorage.CreateBootstrapped(cs), net._configure, seed * 100 + i);
        return net;
    }

    /// <summary>A network over the given storages (ids are the keys).</summary>
    public static TestNetwork FromStorages(IReadOnlyDictionary<ulong, MemStorage> storages, Func<RaftConfig, RaftConfig>? configure = null, int seed = 1)
    {
        var net = new TestNetwork(configure ?? (c => c));
        foreach (var (id, storage) in storages) net._nodes[id] = new TestNode(id, storage, net._configure, seed * 100 + (int)id);
        return net;
    }

    public TestNode this[ulong id] => _nodes[id];

    public IEnumerable<TestNode> Nodes => _nodes.Values;

    /// <summary>Messages delivered so far, for assertions on traffic.</summary>
    public List<Message> Delivered { get; } = [];

    /// <summary>Drops messages for which this returns true.</summary>
    public Func<Message, bool>? DropWhen { get; set; }

    /// <summary>Adds a node with empty storage, waiting to be added by the leader.</summary>
    public TestNode AddEmptyNode(ulong id)
    {
        var node = new TestNode(id, new MemStorage(), _configure, 7000 + (int)id);
        _nodes[id] = node;
        return node;
    }

    public void Remove(ulong id) => _nodes.Remove(id);

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void Isolate(ulong id)
    {
        foreach (var other in _nodes.Keys)
        {
            if (other != id) Cut(id, other);
        }
    }

    public void Heal() => _cut.Clear();

    public void Send(Message m) => _queue.Enqueue(m);

    /// <summary>Collects every node's Ready and delivers messages until the network is quiet.</summary>
    public void Stabilize(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var progress = false;
            foreach (var node in _nodes.Values)
            {
                foreach (var m in node.Drain())
                {
                    _queue.Enqueue(m);
                    progress = true;
                }
            }

            while (_queue.TryDequeue(out var m))
            {
                progress = true;
                if (_cut.Contains((m.From, m.To)) || (DropWhen?.Invoke(m) ?? false)) continue;
                if (!_nodes.TryGetValue(m.To, out var to)) continue;
                Delivered.Add(m);
                to.Node.Step(m);
            }

            if (!progress) return;
        }

        throw new InvalidOperationException("The network did not stabilize.");
    }

    /// <summary>Ticks every node <paramref name="ticks"/> times, stabilizing after each tick.</summary>
    public void Tick(int ticks = 1)
    {
        for (var t = 0; t < ticks; t++)
        {
            foreach (var node in _nodes.Values) node.Node.Tick();
            Stabilize();
        }
    }

    /// <summary>Makes <paramref name="id"/> campaign and stabilizes.</summary>
    public void Campaign(ulong id)
    {
        _nodes[id].Node.Campaign();
        Stabilize();
    }

    /// <summary>Elects node 1 (or <paramref name="id"/>) and returns it.</summary>
    public TestNode Elect(ulong id = 1)
    {
        Campaign(id);
        var node = _nodes[id];
        if (node.Role != StateRole.Leader) throw new InvalidOperationException($"node {id} did not become leader.");
        return node;
    }

    public TestNode? Leader => _nodes.Values.SingleOrDefault(n => n.Role == StateRole.Leader && !IsIsolatedLeader(n));

    private bool IsIsolatedLeader(TestNode n) => _nodes.Keys.Where(k => k != n.Id).All(k => _cut.Contains((n.Id, k)));

    /// <summary>Proposes <paramref name="text"/> on <paramref name="id"/> and stabilizes.</summary>
    public ProposeResult Propose(ulong id, string text)
    {
        var result = _nodes[id].Node.Propose(System.Text.Encoding.UTF8.GetBytes(text));
        Stabilize();
        return result;
    }
}
