using System.Collections.Immutable;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// The canary's storage: a <see cref="MemStorage"/> that, after a restart, claims it never persisted a hard state.
/// A node on it forgets its term and vote across a crash, which Raft forbids (Figure 2: currentTerm and votedFor are
/// persistent state); the simulation must catch the consequences, or its checks prove nothing.
/// </summary>
internal sealed class ForgetfulStorage(MemStorage inner, bool keepCommit) : IStorage
{
    /// <summary>Set when the node restarts; from then on <see cref="InitialState"/> lies.</summary>
    public bool HasRestarted { get; set; }

    public RaftState InitialState()
    {
        var state = inner.InitialState();
        if (!HasRestarted) return state;
        return state with { HardState = keepCommit ? new HardState(0, RaftConfig.None, state.HardState.Commit) : default };
    }

    public ImmutableArray<Entry> Entries(ulong low, ulong high, long maxSize) => inner.Entries(low, high, maxSize);

    public ulong Term(ulong index) => inner.Term(index);

    public ulong FirstIndex() => inner.FirstIndex();

    public ulong LastIndex() => inner.LastIndex();

    public Snapshot Snapshot(ulong requestIndex) => inner.Snapshot(requestIndex);
}
