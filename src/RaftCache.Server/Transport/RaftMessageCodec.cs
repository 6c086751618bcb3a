using System.Buffers;
using System.Collections.Immutable;
using RaftCache.Raft;

namespace RaftCache.Server.Transport;

/// <summary>The messages of one group between two members, as they travel in a <see cref="RaftBatch"/>.</summary>
/// <param name="Group">The group.</param>
/// <param name="From">The sending member.</param>
/// <param name="To">The receiving member.</param>
/// <param name="Messages">The messages, in the order the sender's node produced them.</param>
internal sealed record GroupMessages(GroupId Group, ulong From, ulong To, List<Message> Messages);

/// <summary>
/// The binary form of Raft messages between replicas. Hand-written rather than Orleans-generated because the core's
/// message types carry no Orleans attributes (the core depends on the BCL only), and because a flat varint encoding
/// of all of a flush's messages for one silo costs one pooled buffer instead of an object graph per message.
/// </summary>
/// <remarks>
/// Format version 3: a version byte, then segments until the end, each <c>group-layout:16 group-index group-epoch from to
/// count</c> followed by <c>count</c> messages: type, to, from, term, log term, index, commit, reject hint, context
/// (varints), flags (reject, campaign transfer, snapshot), read mode, entries (count; each: term, index, type, data),
/// and with the snapshot flag the snapshot's metadata (index, term, configuration; its data travels separately, see
/// <see cref="SnapshotChunk"/>).
/// </remarks>
internal static class RaftMessageCodec
{
    public const byte Version = 3;
    private const byte FlagReject = 1;
    private const byte FlagCampaignTransfer = 2;
    private const byte FlagSnapshot = 4;

    /// <summary>Starts a batch in <paramref name="output"/>.</summary>
    public static void WriteBatchHeader(IBufferWriter<byte> output) => new WireWriter(output).WriteByte(Version);

    /// <summary>Appends one group's messages from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static void WriteGroup(IBufferWriter<byte> output, GroupId group, ulong from, ulong to, IReadOnlyList<Message> messages)
    {
        var writer = new WireWriter(output);
        writer.WriteGuid(group.Layout);
        writer.WriteVarint((ulong)group.Index);
        writer.WriteVarint(group.Epoch);
        writer.WriteVarint(from);
        writer.WriteVarint(to);
        writer.WriteVarint((ulong)messages.Count);
        for (var i = 0; i < messages.Count; i++) WriteMessage(ref writer, messages[i]);
    }

    /// <summary>Decodes a batch. Entry data is copied out, so <paramref name="batch"/> may be returned to its pool afterwards.</summary>
    /// <exception cref="FormatException">Unknown version, truncated or malformed data.</exception>
    public static List<GroupMessages> Decode(ReadOnlySequence<byte> batch)
    {
        var reader = new WireReader(batch);
        var version = reader.ReadByte();
        if (version != Version) throw new FormatException($"Unknown Raft batch version {version}; this replica reads version {Version}.");
        var groups = new List<GroupMessages>();
        while (!reader.End)
        {
            var group = ReadGroupId(ref reader);
            var from = reader.ReadVarint();
            var to = reader.ReadVarint();
            var count = reader.ReadVarint();
            if (count > (ulong)reader.Remaining) throw new FormatException("A Raft batch claims more messages than it has bytes.");
            var messages = new List<Message>((int)count);
            for (ulong i = 0; i < count; i++) messages.Add(ReadMessage(ref reader));
            groups.Add(new GroupMessages(group, from, to, messages));
        }

        return groups;
    }

    /// <summary>Encodes one message alone (a snapshot transfer's header).</summary>
    public static void WriteMessage(IBufferWriter<byte> output, Message message)
    {
        var writer = new WireWriter(output);
        WriteMessage(ref writer, message);
    }

    public static GroupId ReadGroupId(ref WireReader reader)
    {
        var layout = reader.ReadGuid();
        var index = reader.ReadVarint();
        if (index > int.MaxValue) throw new FormatException($"Group index {index} is out of range.");
        return new GroupId(layout, (int)index, reader.ReadVarint());
    }

    private static void WriteMessage(ref WireWriter writer, Message m)
    {
        writer.WriteByte((byte)m.Type);
        writer.WriteVarint(m.To);
        writer.WriteVarint(m.From);
        writer.WriteVarint(m.Term);
        writer.WriteVarint(m.LogTerm);
        writer.WriteVarint(m.Index);
        writer.WriteVarint(m.Commit);
        writer.WriteVarint(m.RejectHint);
        writer.WriteVarint(m.Context);
        var flags = (byte)((m.Reject ? FlagReject : 0) | (m.CampaignTransfer ? FlagCampaignTransfer : 0) | (m.Snapshot is null ? 0 : FlagSnapshot));
        writer.WriteByte(flags);
        writer.WriteByte((byte)m.ReadMode);
        writer.WriteVarint((ulong)m.Entries.Length);
        foreach (var e in m.Entries)
        {
            writer.WriteVarint(e.Term);
            writer.WriteVarint(e.Index);
            writer.WriteByte((byte)e.Type);
            writer.WriteBytes(e.Data.Span);
        }

        if (m.Snapshot is { } snapshot)
        {
            writer.WriteVarint(snapshot.Metadata.Index);
            writer.WriteVarint(snapshot.Metadata.Term);
            WriteConfState(ref writer, snapshot.Metadata.ConfState);
        }
    }

    /// <summary>Decodes one message written by <c>WriteMessage</c>.</summary>
    public static Message ReadMessage(ref WireReader reader)
    {
        var type = reader.ReadByte();
        if (type > (byte)MessageType.ReadIndexResponse) throw new FormatException($"Unknown Raft message type {type}.");
        var to = reader.ReadVarint();
        var from = reader.ReadVarint();
        var term = reader.ReadVarint();
        var logTerm = reader.ReadVarint();
        var index = reader.ReadVarint();
        var commit = reader.ReadVarint();
        var rejectHint = reader.ReadVarint();
        var context = reader.ReadVarint();
        var flags = reader.ReadByte();
        var readMode = reader.ReadByte();
        if (readMode > (byte)ReadMode.LeaseBased) throw new FormatException($"Unknown read mode {readMode}.");
        var entryCount = reader.ReadVarint();
        if (entryCount > (ulong)reader.Remaining) throw new FormatException("A Raft message claims more entries than it has bytes.");
        var entries = ImmutableArray<Entry>.Empty;
        if (entryCount > 0)
        {
            var builder = ImmutableArray.CreateBuilder<Entry>((int)entryCount);
            for (ulong i = 0; i < entryCount; i++)
            {
                var entryTerm = reader.ReadVarint();
                var entryIndex = reader.ReadVarint();
                var entryType = reader.ReadByte();
                if (entryType > (byte)EntryType.ConfChange) throw new FormatException($"Unknown entry type {entryType}.");
                builder.Add(new Entry(entryTerm, entryIndex, (EntryType)entryType, reader.ReadBytes()));
            }

            entries = builder.MoveToImmutable();
        }

        Snapshot? snapshot = null;
        if ((flags & FlagSnapshot) != 0)
        {
            var snapshotIndex = reader.ReadVarint();
            var snapshotTerm = reader.ReadVarint();
            var confState = ReadConfState(ref reader);
            snapshot = new Snapshot(new SnapshotMetadata(snapshotIndex, snapshotTerm, confState), ReadOnlyMemory<byte>.Empty);
        }

        return new Message
        {
            Type = (MessageType)type,
            To = to,
            From = from,
            Term = term,
            LogTerm = logTerm,
            Index = index,
            Commit = commit,
            RejectHint = rejectHint,
            Context = context,
            Reject = (flags & FlagReject) != 0,
            CampaignTransfer = (flags & FlagCampaignTransfer) != 0,
            ReadMode = (ReadMode)readMode,
            Entries = entries,
            Snapshot = snapshot,
        };
    }

    /// <summary>Encodes a configuration.</summary>
    public static void WriteConfState(ref WireWriter writer, ConfState state)
    {
        WriteIds(ref writer, state.Voters);
        WriteIds(ref writer, state.Learners);
        WriteIds(ref writer, state.VotersOutgoing);
        WriteIds(ref writer, state.LearnersNext);
        writer.WriteByte(state.AutoLeave ? (byte)1 : (byte)0);
    }

    /// <summary>Decodes what <see cref="WriteConfState"/> wrote.</summary>
    public static ConfState ReadConfState(ref WireReader reader) => new()
    {
        Voters = ReadIds(ref reader),
        Learners = ReadIds(ref reader),
        VotersOutgoing = ReadIds(ref reader),
        LearnersNext = ReadIds(ref reader),
        AutoLeave = reader.ReadByte() != 0,
    };

    private static void WriteIds(ref WireWriter writer, ImmutableArray<ulong> ids)
    {
        writer.WriteVarint((ulong)ids.Length);
        foreach (var id in ids) writer.WriteVarint(id);
    }

    private static ImmutableArray<ulong> ReadIds(ref WireReader reader)
    {
        var count = reader.ReadVarint();
        if (count > 1024) throw new FormatException($"A configuration with {count} members is not plausible.");
        var builder = ImmutableArray.CreateBuilder<ulong>((int)count);
        for (ulong i = 0; i < count; i++) builder.Add(reader.ReadVarint());
        return builder.MoveToImmutable();
    }
}
