namespace RaftCache.Raft.Tests.Support;

/// <summary>Helpers for tests of the Raft paper's behaviours: single nodes stepped by hand.</summary>
public static class Paper
{
    /// <summary>The paper's algorithm without extensions: no pre-vote, no check-quorum.</summary>
    public static RaftConfig Plain(RaftConfig c) => c with { PreVote = false, CheckQuorum = false, HeartbeatTick = 1 };

    public static ConfState Voters(int n) => new() { Voters = [.. Enumerable.Range(1, n).Select(i => (ulong)i)] };

    /// <summary>
    /// Bootstrapped storage of an <paramref name="voters"/>-voter group holding entries of the given terms from
    /// index 2 (index 1 is the bootstrap snapshot, term 1).
    /// </summary>
    public static MemStorage LogStorage(int voters, params ulong[] terms)
    {
        var storage = MemStorage.CreateBootstrapped(Voters(voters));
        var entries = new Entry[terms.Length];
        for (var k = 0; k < terms.Length; k++) entries[k] = new Entry(terms[k], (ulong)k + 2, EntryType.Normal, new byte[] { (byte)k });
        storage.Append(entries);
        var term = terms.Length == 0 ? 1 : terms.Max();
        storage.SetHardState(new HardState(term, 0, 1));
        return storage;
    }

    public static TestNode Node(ulong id, int voters = 3, Func<RaftConfig, RaftConfig>? configure = null, MemStorage? storage = null) =>
        new(id, storage ?? LogStorage(voters), configure ?? Plain, 42 + (int)id);

    /// <summary>Makes a node leader of a new term by feeding it the votes it asks for.</summary>
    public static List<Message> MakeLeader(TestNode node)
    {
        node.Node.Campaign();
        var requests = node.Drain();
        foreach (var r in requests.Where(m => m.Type == MessageType.RequestVote))
            node.Node.Step(new Message { Type = MessageType.RequestVoteResponse, From = r.To, To = node.Id, Term = r.Term });
        if (node.Role != StateRole.Leader) throw new InvalidOperationException("not elected");
        return node.Drain();
    }

    public static List<Message> Of(this IEnumerable<Message> messages, MessageType type) => messages.Where(m => m.Type == type).ToList();

    public static void Tick(TestNode node, int ticks)
    {
        for (var k = 0; k < ticks; k++) node.Node.Tick();
    }

    public static Entry[] LogOf(TestNode node)
    {
        var first = node.Storage.FirstIndex();
        var last = node.Storage.LastIndex();
        return last < first ? [] : [.. node.Storage.Entries(first, last + 1, long.MaxValue)];
    }
}
