using System.Collections.Immutable;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft;

/// <summary>
/// Checks a message received from a peer before the node acts on it; <see cref="RawNode.Step"/> refuses what fails
/// with <see cref="MalformedMessageException"/>.
/// </summary>
/// <remarks>
/// <para>Two kinds of check must not be confused. Invariant checks (<see cref="Throw.Invariant(string)"/>) guard the
/// node's own state, and one failing means this node is corrupt and must stop. Peer input is only ever validated:
/// a peer may be buggy, or the transport may corrupt or forge a message, and that says nothing about this node. So
/// every field of a message that the core relies on is checked here, in one place, against what a correct peer can
/// send, and no peer input reaches an invariant check.</para>
/// <para>What is checked: the type is one a peer sends; the message is addressed to this node and names its sender;
/// it carries a term where the term rules of Raft §5.1 need one (a term of 0 would skip them), and no term an entry
/// cannot carry. An append's entries follow its index without gaps (Raft §5.3), with terms from 1 to the message's
/// term that never decrease from the previous entry's on (a log's terms are monotonic), and of known types. An
/// InstallSnapshot carries a snapshot with metadata: index at least 1, term from 1 to the message's term, and a
/// configuration that keeps the membership invariants (Raft §7). A candidate's last log term is not above the term
/// it campaigns for. An append response to the leader of its term does not name an index past the leader's log, and
/// a rejection's hint is not above the rejected index.</para>
/// <para>All checks depend on the message and this node's id alone, except that last one, which needs the leader's
/// last index: an acknowledgement of entries the leader never had would make it look for a snapshot it may not have.
/// Checks that are part of Raft itself (a stale term, a log that does not match) stay where Raft handles them.</para>
/// </remarks>
internal static class MessageValidator
{
    /// <summary>What is wrong with <paramref name="m"/>, received by <paramref name="node"/>, or null if nothing.</summary>
    public static string? Problem(Message m, Raft node)
    {
        switch (m.Type)
        {
            case MessageType.Hup or MessageType.Beat or MessageType.Unreachable or MessageType.SnapshotStatus or MessageType.CheckQuorum:
                return "it is a local message type, which never comes from a peer; use the corresponding RawNode method";
            case > MessageType.ReadIndexResponse:
                return "it has an unknown message type";
        }

        if (m.To != node.Id) return $"it is addressed to {m.To}, not to this node ({node.Id})";
        if (m.From == RaftConfig.None) return "it names no sender";
        if (m.Term > Entry.MaxTerm) return $"its term {m.Term} exceeds the largest term {Entry.MaxTerm}";

        // Only forwarded proposals, reads and transfer requests carry no term; any other message without one would
        // skip the term checks of Raft §5.1 and be taken for a message of the current term.
        if (m.Term == 0 && m.Type is not (MessageType.Propose or MessageType.ReadIndex or MessageType.TransferLeader))
            return "it carries no term (term 0)";
        if (m.Entries.IsDefault) return "its entry list is missing (a default ImmutableArray)";

        return m.Type switch
        {
            MessageType.Append => AppendProblem(m),
            MessageType.Propose => EntryTypeProblem(m.Entries),
            MessageType.InstallSnapshot => SnapshotProblem(m),
            MessageType.RequestVote or MessageType.RequestPreVote when m.LogTerm > m.Term =>
                $"the candidate's last log term {m.LogTerm} is above the term {m.Term} it campaigns for",
            MessageType.AppendResponse => AppendResponseProblem(m, node),
            MessageType.ReadIndex when !Enum.IsDefined(m.ReadMode) => $"it has an unknown read mode {(byte)m.ReadMode}",
            _ => null,
        };
    }

    private static string? AppendProblem(Message m)
    {
        if (m.LogTerm > m.Term) return $"the previous entry's log term {m.LogTerm} is above the message's term {m.Term}";
        var entries = m.Entries.AsSpan();
        if (entries.IsEmpty) return null;

        // Index + count must not wrap around, and neither may the index after the last entry.
        if (m.Index >= ulong.MaxValue - (ulong)entries.Length) return $"the indexes of {entries.Length} entries after {m.Index} overflow";
        var previousTerm = m.LogTerm;
        for (var k = 0; k < entries.Length; k++)
        {
            ref readonly var e = ref entries[k];
            var expected = m.Index + 1 + (ulong)k;
            if (e.Index != expected)
                return $"entry {k} has index {e.Index}, which does not follow index {m.Index} without gaps (expected {expected})";
            if (e.Term == 0 || e.Term > m.Term) return $"entry {e.Index} has term {e.Term}, outside [1, {m.Term}]";
            if (e.Term < previousTerm) return $"entry {e.Index} has term {e.Term}, below the term {previousTerm} of the entry before it";
            if (!Enum.IsDefined(e.Type)) return $"entry {e.Index} has an unknown entry type {(byte)e.Type}";
            previousTerm = e.Term;
        }

        return null;
    }

    private static string? EntryTypeProblem(ImmutableArray<Entry> entries)
    {
        foreach (ref readonly var e in entries.AsSpan())
        {
            if (!Enum.IsDefined(e.Type)) return $"an entry has an unknown entry type {(byte)e.Type}";
        }

        return null;
    }

    private static string? SnapshotProblem(Message m)
    {
        if (m.Snapshot is not { } snapshot) return "it carries no snapshot";
        if (snapshot.Metadata is not { } meta) return "its snapshot has no metadata";
        if (meta.Index == 0) return "its snapshot is empty (index 0)";
        if (meta.Index == ulong.MaxValue) return $"its snapshot index {meta.Index} leaves no room for a next index";
        if (meta.Term == 0 || meta.Term > m.Term) return $"its snapshot has term {meta.Term}, outside [1, {m.Term}]";
        if (meta.ConfState is null) return "its snapshot has no configuration";
        return MembershipConfig.TryFromConfState(meta.ConfState, out var error) is null
            ? $"its snapshot's configuration is invalid: {error}"
            : null;
    }

    private static string? AppendResponseProblem(Message m, Raft node)
    {
        if (m.Reject && m.RejectHint > m.Index) return $"its rejection hint {m.RejectHint} is above the rejected index {m.Index}";

        // Within its term the leader's log only grows, and every index a follower reports (acknowledged, rejected
        // probe, or its commit index) is one the leader sent or holds (Leader Completeness, Raft §5.4).
        if (node.State == StateRole.Leader && m.Term == node.Term && m.Index > node.Log.LastIndex)
            return $"it names index {m.Index}, but this leader's log ends at {node.Log.LastIndex}";
        return null;
    }
}
