using System.Collections.Immutable;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// The safety properties of Raft (Raft §5.4, Figure 3; thesis §6.4 for reads), checked incrementally as the nodes
/// report what they do. Every check throws <see cref="InvariantViolationException"/> at the first step that breaks it.
/// </summary>
/// <remarks>
/// Lookups use hash tables, but nothing iterates them: the run's behaviour depends only on sorted or indexed data.
/// </remarks>
internal sealed class InvariantChecker(SimulationRun run, bool checkPersistedHardState)
{
    private const ulong UnknownTerm = ulong.MaxValue;

    // Election safety: the one leader of every term seen in the whole run.
    private readonly SortedDictionary<ulong, ulong> _leaderOfTerm = [];

    private ulong _newestTerm;
    private ulong _newestLeader;

    // Log matching: every (term, index) ever seen in a log or an append, with its payload and its predecessor's term.
    private readonly Dictionary<EntryId, LoggedEntry> _logged = [];

    // State machine safety: what was applied at each index (position = index; 0 is a placeholder), first come.
    private readonly List<AppliedEntry> _applied = [default];

    // Reads: the commit floor each read must cover, by request id.
    private readonly Dictionary<ulong, PendingRead> _reads = [];

    // Membership: the configuration in force from each conf change index on (ascending; the bootstrap first), as
    // computed from the committed log in order, and the position of each index in these lists.
    private readonly List<ulong> _configIndexes = [];
    private readonly List<ConfState> _configs = [];
    private readonly Dictionary<ulong, int> _configPosition = [];
    private readonly HashSet<ulong> _leaderRemovalCounted = [];
    private readonly HashSet<ulong> _retired = [];

    /// <summary>The highest commit index any node ever reported: everything at or below it is committed.</summary>
    public ulong MaxCommitKnown { get; private set; }

    /// <summary>The highest index applied anywhere; every entry up to it is recorded.</summary>
    public ulong MaxApplied => (ulong)_applied.Count - 1;

    public ulong StateHashAt(ulong index) => _applied[(int)index].StateHash;

    /// <summary>Records the state every node starts from: the bootstrap snapshot counts as applied.</summary>
    public void OnBootstrap(Snapshot bootstrap)
    {
        RecordConfig(bootstrap.Metadata.Index, bootstrap.Metadata.ConfState);
        for (var index = 1UL; index <= bootstrap.Metadata.Index; index++)
        {
            _applied.Add(new AppliedEntry(bootstrap.Metadata.Term, 0, 0, RaftConfig.None));
        }

        RaiseCommit(bootstrap.Metadata.Index);
    }

    public void OnBecameLeader(SimulatedNode node, ulong term)
    {
        RecordLeader(term, node.Id, "became leader");
        run.Counters.LeadersElected++;
    }

    /// <summary>Leader completeness (Raft §5.4.1): a new leader's log holds every entry committed before it was elected.</summary>
    public void CheckLeaderHasEveryCommittedEntry(SimulatedNode leader)
    {
        var storage = leader.Stable;
        var last = storage.LastIndex();
        if (last < MaxApplied)
        {
            throw new InvariantViolationException(
                "leader completeness",
                $"node {leader.Id} leads term {leader.Hard.Term} with last index {last}, but entry {MaxApplied} was already committed");
        }

        // Below the first index the log is compacted; its snapshot point's term is still known.
        for (var index = Math.Max(storage.FirstIndex() - 1, 1); index <= MaxApplied; index++)
        {
            var term = storage.Term(index);
            if (term != _applied[(int)index].Term)
            {
                throw new InvariantViolationException(
                    "leader completeness",
                    $"node {leader.Id} leads term {leader.Hard.Term} with term {term} at index {index}, but term {_applied[(int)index].Term} was committed there");
            }
        }
    }

    public void OnSnapshotPersisting(SimulatedNode node, Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        if (index > MaxApplied)
        {
            throw new InvariantViolationException(
                "snapshot integrity", $"node {node.Id} received a snapshot at {index}, beyond anything ever applied ({MaxApplied})");
        }

        if (_applied[(int)index].Term != snapshot.Metadata.Term)
        {
            throw new InvariantViolationException(
                "state machine safety",
                $"node {node.Id} received a snapshot at {index} of term {snapshot.Metadata.Term}, but term {_applied[(int)index].Term} was applied there");
        }

        CheckSnapshotConfig(node, snapshot, "received");
        RaiseCommit(index);
    }

    /// <summary>
    /// Entries about to be appended to a node's stable log: contiguous, and never replacing an entry the node knows
    /// is committed; each one recorded for log matching with its predecessor's term.
    /// </summary>
    public void OnEntriesPersisting(SimulatedNode node, ImmutableArray<Entry> entries)
    {
        var storage = node.Stable;
        var firstNew = entries[0].Index;
        var last = storage.LastIndex();
        var first = storage.FirstIndex();
        if (firstNew > last + 1)
        {
            throw new InvariantViolationException("log continuity", $"node {node.Id} was asked to append {firstNew} after its last index {last}");
        }

        for (var k = 1; k < entries.Length; k++)
        {
            if (entries[k].Index != entries[k - 1].Index + 1 || entries[k].Term < entries[k - 1].Term)
            {
                throw new InvariantViolationException(
                    "log continuity", $"node {node.Id} was asked to append {entries[k - 1].Id} followed by {entries[k].Id}");
            }
        }

        // The first index the append changes: everything from there on is replaced (MemStorage drops the suffix).
        var newLast = entries[^1].Index;
        var conflict = Math.Max(firstNew, first);
        while (conflict <= last && conflict <= newLast && storage.Term(conflict) == entries[(int)(conflict - firstNew)].Term) conflict++;
        if (conflict <= last && conflict <= node.Hard.Commit)
        {
            throw new InvariantViolationException(
                "committed entries are never removed",
                $"node {node.Id} would replace its log from {conflict} (entries {firstNew}..{newLast}) but knows it committed up to {node.Hard.Commit}");
        }

        // Whatever the node believes: an entry applied anywhere is committed and no log may lose it (Raft §5.4).
        for (var index = conflict; index <= last && index <= MaxApplied; index++)
        {
            if (storage.Term(index) == _applied[(int)index].Term)
            {
                throw new InvariantViolationException(
                    "committed entries are never removed",
                    $"node {node.Id} would replace committed entry ({_applied[(int)index].Term}, {index}) by appending entries {firstNew}..{newLast}");
            }
        }

        var previousTerm = firstNew == 1 ? 0 : firstNew - 1 >= first - 1 && firstNew - 1 <= last ? storage.Term(firstNew - 1) : UnknownTerm;
        foreach (var entry in entries)
        {
            RecordLogged(entry, previousTerm, node.Id, "persisted");
            previousTerm = entry.Term;
        }
    }

    public void OnHardStatePersisting(SimulatedNode node, HardState previous, HardState next)
    {
        if (next.Commit > node.Stable.LastIndex())
        {
            throw new InvariantViolationException(
                "commit within log", $"node {node.Id} persists commit {next.Commit} past its last index {node.Stable.LastIndex()}");
        }

        if (checkPersistedHardState)
        {
            if (next.Term < previous.Term)
            {
                throw new InvariantViolationException(
                    "persistent term", $"node {node.Id} persisted term {next.Term} after term {previous.Term}");
            }

            if (next.Term == previous.Term && previous.Vote != RaftConfig.None && next.Vote != previous.Vote)
            {
                throw new InvariantViolationException(
                    "one vote per term", $"node {node.Id} changed its vote in term {next.Term} from {previous.Vote} to {next.Vote}");
            }

            if (next.Commit < previous.Commit)
            {
                throw new InvariantViolationException(
                    "persistent commit", $"node {node.Id} persisted commit {next.Commit} after {previous.Commit}");
            }
        }

        RaiseCommit(next.Commit);
    }

    public void OnMessageSent(SimulatedNode node, Message message)
    {
        // A follower relays a proposal or read it cannot serve to the leader unchanged, so that the answer goes
        // straight back to the origin; every other message comes from its sender.
        var relayed = message.Type is MessageType.Propose or MessageType.ReadIndex;
        if ((message.From != node.Id && !relayed) || message.From == RaftConfig.None || message.From > (ulong)run.Nodes.Count
            || message.To == node.Id || message.To == RaftConfig.None || message.To > (ulong)run.Nodes.Count)
        {
            throw new InvariantViolationException(
                "message addressing", $"node {node.Id} sent {message.Type} from {message.From} to {message.To}");
        }

        switch (message.Type)
        {
            // Only a leader sends these, so each one names the leader of its term.
            case MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot or MessageType.TimeoutNow:
                RecordLeader(message.Term, message.From, $"sent {message.Type}");
                break;
            default:
                break;
        }

        if (message.Type == MessageType.Append)
        {
            var previousTerm = message.LogTerm;
            var expectedIndex = message.Index + 1;
            foreach (var entry in message.Entries)
            {
                if (entry.Index != expectedIndex)
                {
                    throw new InvariantViolationException(
                        "log continuity", $"node {node.Id} sent an append after {message.Index} holding entry {entry.Index} where {expectedIndex} belongs");
                }

                RecordLogged(entry, previousTerm, node.Id, "sent");
                previousTerm = entry.Term;
                expectedIndex++;
            }
        }
    }

    public void OnApplied(SimulatedNode node, in Entry entry, ulong dataHash)
    {
        var index = entry.Index;
        var stateHash = node.Machine.StateHash;
        if (_logged.TryGetValue(entry.Id, out var logged) && logged.DataHash != dataHash)
        {
            throw new InvariantViolationException(
                "log matching", $"node {node.Id} applied {entry.Id} with a payload that differs from the one logged by node {logged.FirstSeenOn}");
        }

        if (index < (ulong)_applied.Count)
        {
            var first = _applied[(int)index];
            if (first.Term != entry.Term || first.DataHash != dataHash || first.StateHash != stateHash)
            {
                throw new InvariantViolationException(
                    "state machine safety",
                    $"node {node.Id} applied term {entry.Term} at index {index} (state {stateHash:x16}); node {first.Node} applied term {first.Term} there (state {first.StateHash:x16})");
            }

            return;
        }

        if (index != (ulong)_applied.Count)
        {
            throw new InvariantViolationException(
                "state machine safety", $"node {node.Id} applied index {index} but nobody ever applied {_applied.Count}");
        }

        _applied.Add(new AppliedEntry(entry.Term, dataHash, stateHash, node.Id));
        run.Counters.EntriesCommitted++;
        RaiseCommit(index);
        CheckNewestLeaderHas(entry);
    }

    /// <summary>A state machine restored from a snapshot must equal the one that applied the log up to that index.</summary>
    public void OnStateMachineRestored(SimulatedNode node, Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        if (index > MaxApplied || node.Machine.StateHash != _applied[(int)index].StateHash)
        {
            throw new InvariantViolationException(
                "state machine safety",
                $"node {node.Id} restored a snapshot at {index} whose state does not match the state applied there by node {(index > MaxApplied ? 0 : _applied[(int)index].Node)}");
        }
    }

    /// <summary>The configuration in force after the newest conf change applied anywhere.</summary>
    public ConfState LatestConfig => _configs[^1];

    /// <summary>Whether <paramref name="id"/> was removed from the group by a committed change; it is never added again.</summary>
    public bool IsRetired(ulong id) => _retired.Contains(id);

    /// <summary>
    /// The configuration in force once every entry up to <paramref name="index"/> is applied: that of the last
    /// conf change at or below it (the empty configuration before the bootstrap snapshot).
    /// </summary>
    public ConfState ConfigAt(ulong index)
    {
        var position = _configIndexes.BinarySearch(index);
        if (position < 0) position = ~position - 1;
        return position < 0 ? ConfState.Empty : _configs[position];
    }

    /// <summary>
    /// A node applied the committed conf change <paramref name="entry"/> and now runs with <paramref name="nodeConfig"/>.
    /// Thesis §4.3: every node must move through the same configurations, each the result of applying the committed
    /// conf changes in log order. The first application of an index computes that result independently from the
    /// configuration in force before it; every node applying the index must end up with exactly it.
    /// </summary>
    public void OnConfChangeApplied(SimulatedNode node, in Entry entry, ConfChange change, ConfState nodeConfig, bool wasLeader)
    {
        var index = entry.Index;
        ConfState expected;
        if (_configPosition.TryGetValue(index, out var position))
        {
            expected = _configs[position];
        }
        else
        {
            if (index <= _configIndexes[^1])
            {
                throw new InvariantViolationException(
                    "configuration", $"node {node.Id} applied a conf change at {index}, where the first node to apply it applied none");
            }

            var before = _configs[^1];
            var result = ConfChanger.TryApply(MembershipConfig.FromConfState(before), change, out var error);
            if (result is null)
            {
                throw new InvariantViolationException(
                    "configuration", $"the conf change committed at {index} ({ConfChangeDescription.Unpack(ConfChangeDescription.Pack(change))}) is invalid in the configuration in force ({ConfChangeDescription.Unpack(ConfChangeDescription.Pack(before))}): {error}");
            }

            expected = result.ToConfState();
            RecordConfig(index, expected);
            CountChange(before, expected);
            run.Trace.Record(new TraceEvent(run.Now, TraceKind.ConfChangeApplied, node.Id, ConfChangeDescription.Pack(change), default, entry.Term, index, ConfChangeDescription.Pack(expected)));
        }

        if (!nodeConfig.Equals(expected))
        {
            throw new InvariantViolationException(
                "configuration",
                $"node {node.Id} applied the conf change at {index} and runs with {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(nodeConfig))}, but the committed log gives {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(expected))}");
        }

        // The leader of the moment applied a change that took its vote: it must step down (checked by election
        // safety and convergence); counted once per index.
        if (wasLeader && !expected.Voters.Contains(node.Id) && !expected.VotersOutgoing.Contains(node.Id) && _leaderRemovalCounted.Add(index))
        {
            run.Counters.LeaderRemovals++;
        }
    }

    /// <summary>Between steps, the configuration a node runs with is the one in force at its applied index.</summary>
    public void CheckConfigInForce(SimulatedNode node)
    {
        var actual = node.Raft!.Status.ConfState;
        var expected = ConfigAt(node.Machine.Applied);
        if (!actual.Equals(expected))
        {
            throw new InvariantViolationException(
                "configuration",
                $"node {node.Id} has applied up to {node.Machine.Applied} and runs with {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(actual))}, but the committed log gives {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(expected))} there");
        }
    }

    /// <summary>A snapshot a node just took carries the configuration in force at its index.</summary>
    public void OnSnapshotCreated(SimulatedNode node, Snapshot snapshot) => CheckSnapshotConfig(node, snapshot, "took");

    public void OnReadRequested(SimulatedNode node, ulong requestId, ReadMode mode) =>
        _reads.Add(requestId, new PendingRead(node.Id, MaxCommitKnown, mode, run.Now));

    /// <summary>
    /// Linearizable reads (thesis §6.4): the read point covers every write committed before the read began, and is
    /// itself committed.
    /// </summary>
    public void OnReadState(SimulatedNode node, ReadState readState)
    {
        if (!_reads.TryGetValue(readState.RequestId, out var read))
        {
            throw new InvariantViolationException("read", $"node {node.Id} answered read {readState.RequestId}, which nobody requested");
        }

        if (read.Node != node.Id)
        {
            throw new InvariantViolationException(
                "read", $"node {node.Id} answered read {readState.RequestId}, which was requested at node {read.Node}");
        }

        if (readState.Index < read.CommitFloor)
        {
            throw new InvariantViolationException(
                "stale read",
                $"{read.Mode} read {readState.RequestId} at node {node.Id} got read index {readState.Index}, but {read.CommitFloor} was committed when it was requested");
        }

        if (readState.Index > MaxCommitKnown)
        {
            throw new InvariantViolationException(
                "read", $"read {readState.RequestId} at node {node.Id} got read index {readState.Index}, which nobody reported committed (max {MaxCommitKnown})");
        }

        if (read.Answered) return;
        _reads[readState.RequestId] = read with { Answered = true };
        run.Counters.ReadsAnswered++;
        if (run.Now == read.RequestedAt)
        {
            // Answered before any message could travel: only the leader lease allows that. A Safe read must first
            // hear a quorum confirm the leadership (thesis §6.4, step 3).
            if (read.Mode == ReadMode.Safe && run.Nodes.Count > 1)
            {
                throw new InvariantViolationException(
                    "read", $"Safe read {readState.RequestId} at node {node.Id} was answered without a heartbeat round");
            }

            run.Counters.ReadsServedByLease++;
        }
    }

    /// <summary>
    /// Log matching (Raft §5.3) over whole stable logs: if two logs hold the same term at an index, they hold the
    /// same terms at every earlier index both still have. Backs up the incremental check with a direct comparison.
    /// </summary>
    public void CheckStableLogsMatch()
    {
        var nodes = run.Nodes;
        for (var a = 0; a < nodes.Count; a++)
        {
            for (var b = a + 1; b < nodes.Count; b++)
            {
                var x = nodes[a].Stable;
                var y = nodes[b].Stable;
                var low = Math.Max(x.FirstIndex(), y.FirstIndex()) - 1;
                var high = Math.Min(x.LastIndex(), y.LastIndex());
                var agreed = false;
                for (var index = high; index >= low && index > 0; index--)
                {
                    var same = x.Term(index) == y.Term(index);
                    if (same) agreed = true;
                    else if (agreed)
                    {
                        throw new InvariantViolationException(
                            "log matching",
                            $"nodes {nodes[a].Id} and {nodes[b].Id} agree on a later index but hold terms {x.Term(index)} and {y.Term(index)} at {index}");
                    }
                }
            }
        }
    }

    private void RecordLeader(ulong term, ulong id, string how)
    {
        if (_leaderOfTerm.TryGetValue(term, out var leader))
        {
            if (leader != id)
            {
                throw new InvariantViolationException(
                    "election safety", $"term {term} has two leaders: node {leader} and node {id} ({how})");
            }

            return;
        }

        _leaderOfTerm.Add(term, id);
        if (term > _newestTerm)
        {
            _newestTerm = term;
            _newestLeader = id;
        }
    }

    /// <summary>
    /// Leader completeness, continuously: an entry just seen committed must be in the log of the leader of the newest
    /// term. Whoever committed it led that term or an earlier one, so the newest leader holds it (Raft §5.4.3).
    /// Stale leaders of older terms may legitimately lack it.
    /// </summary>
    private void CheckNewestLeaderHas(in Entry entry)
    {
        if (_newestLeader == RaftConfig.None) return;
        var newest = _newestTerm;
        var leader = run.Nodes[(int)_newestLeader - 1];
        if (!leader.IsUp || leader.Role != StateRole.Leader || leader.Hard.Term != newest) return;
        var storage = leader.Stable;
        if (entry.Index < storage.FirstIndex() - 1) return;
        if (entry.Index > storage.LastIndex() || storage.Term(entry.Index) != entry.Term)
        {
            throw new InvariantViolationException(
                "leader completeness", $"entry {entry.Id} was committed but node {leader.Id}, leader of term {newest}, does not hold it");
        }
    }

    private void RecordLogged(in Entry entry, ulong previousTerm, ulong node, string how)
    {
        var dataHash = Hashing.Of(entry.Data.Span);
        if (_logged.TryGetValue(entry.Id, out var logged))
        {
            if (logged.DataHash != dataHash)
            {
                throw new InvariantViolationException(
                    "log matching", $"entry {entry.Id} {how} by node {node} differs from the one first seen on node {logged.FirstSeenOn}");
            }

            if (previousTerm != UnknownTerm && logged.PreviousTerm != UnknownTerm && logged.PreviousTerm != previousTerm)
            {
                throw new InvariantViolationException(
                    "log matching",
                    $"entry {entry.Id} {how} by node {node} follows term {previousTerm}, but follows term {logged.PreviousTerm} on node {logged.FirstSeenOn}");
            }

            if (logged.PreviousTerm == UnknownTerm && previousTerm != UnknownTerm) _logged[entry.Id] = logged with { PreviousTerm = previousTerm };
            return;
        }

        _logged.Add(entry.Id, new LoggedEntry(dataHash, previousTerm, node));
    }

    private void CheckSnapshotConfig(SimulatedNode node, Snapshot snapshot, string how)
    {
        var expected = ConfigAt(snapshot.Metadata.Index);
        if (!snapshot.Metadata.ConfState.Equals(expected))
        {
            throw new InvariantViolationException(
                "configuration",
                $"node {node.Id} {how} a snapshot at {snapshot.Metadata.Index} with {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(snapshot.Metadata.ConfState))}, but the committed log gives {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(expected))} there");
        }
    }

    private void RecordConfig(ulong index, ConfState config)
    {
        _configPosition.Add(index, _configs.Count);
        _configIndexes.Add(index);
        _configs.Add(config);
    }

    /// <summary>Counts what a committed change did, by comparing the configurations before and after it.</summary>
    private void CountChange(ConfState before, ConfState after)
    {
        var counters = run.Counters;
        counters.ConfChangesApplied++;
        if (!before.IsJoint && after.IsJoint)
        {
            if (after.AutoLeave) counters.JointsEnteredAutoLeave++;
            else counters.JointsEnteredExplicit++;
        }
        else if (before.IsJoint && !after.IsJoint)
        {
            if (before.AutoLeave) counters.JointsLeftAuto++;
            else counters.JointsLeftExplicit++;
        }

        var beforeConfig = MembershipConfig.FromConfState(before);
        var afterConfig = MembershipConfig.FromConfState(after);
        foreach (var id in beforeConfig.AllMembers.Union(afterConfig.AllMembers).Order())
        {
            var wasMember = beforeConfig.IsMember(id);
            var isMember = afterConfig.IsMember(id);
            if (!wasMember && isMember) counters.NodesAdded++;
            if (wasMember && !isMember)
            {
                counters.NodesRemoved++;
                _retired.Add(id);
            }

            if (beforeConfig.Learners.Contains(id) && afterConfig.Voters.Contains(id)) counters.LearnersPromoted++;
            if (beforeConfig.Voters.Contains(id) && (afterConfig.Learners.Contains(id) || afterConfig.LearnersNext.Contains(id))) counters.VotersDemoted++;
        }
    }

    private void RaiseCommit(ulong commit)
    {
        if (commit > MaxCommitKnown) MaxCommitKnown = commit;
    }

    private readonly record struct LoggedEntry(ulong DataHash, ulong PreviousTerm, ulong FirstSeenOn);

    private readonly record struct AppliedEntry(ulong Term, ulong DataHash, ulong StateHash, ulong Node);

    private readonly record struct PendingRead(ulong Node, ulong CommitFloor, ReadMode Mode, long RequestedAt, bool Answered = false);
}
