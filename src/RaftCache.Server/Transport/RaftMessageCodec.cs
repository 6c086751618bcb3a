using System.Buffers;
using System.Collections.Immutable;
using RaftCache.Raft;

namespace RaftCache.Server.Transport;

/// <summary>
/// The binary form of a batch of Raft messages between replicas. Hand-written rather than Orleans-generated because
/// the core's message types carry no Orleans attributes (the core depends on the BCL only), and because a flat
/// varint encoding of a whole batch costs one buffer per peer per Ready instead of an object graph per message.
/// </summary>
/// <remarks>
/// Format version 1: version byte, message count, then per message: type, to, from, term, log term, index, commit,
/// reject hint, context (varints), flags (reject, campaign transfer), read mode, entries (count; each: term, index,
/// type, data), and an optional snapshot (index, term, conf state, data).
/// </remarks>
internal static class RaftMessageCodec
{
    private const byte Version = 1;
    private const byte FlagReject = 1;
    private const byte FlagCampaignTransfer = 2;
    private const byte FlagSnapshot = 4;

    /// <summary>Encodes <paramref name="messages"/> into one buffer.</summary>
    public static byte[] Encode(IReadOnlyList<Message> messages)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new WireWriter(buffer);
        writer.WriteByte(Version);
        writer.WriteVarint((ulong)messages.Count);
        for (var i = 0; i < messages.Count; i++) WriteMessage(ref writer, messages[i]);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a buffer made by <see cref="Encode"/>. Entry data and snapshot data slice the buffer.</summary>
    /// <exception cref="FormatException">Unknown version, truncated or malformed data.</exception>
    public static List<Message> Decode(ReadOnlyMemory<byte> data)
    {
        var reader = new WireReader(data);
        var version = reader.ReadByte();
        if (version != Version) throw new FormatException($"Unknown Raft message batch version {version}; this replica reads version {Version}.");
        var count = reader.ReadVarint();
        if (count > (ulong)data.Length) throw new FormatException("The Raft message batch claims more messages than it has bytes.");
        var messages = new List<Message>((int)count);
        for (ulong i = 0; i < count; i++) messages.Add(ReadMessage(ref reader));
        if (!reader.End) throw new FormatException("The Raft message batch has trailing bytes.");
        return messages;
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
            writer.WriteBytes(snapshot.Data.Span);
        }
    }

    private static Message ReadMessage(ref WireReader reader)
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
        var entries = ImmutableArray<Entry>.Empty;
        if (entryCount > 0)
        {
            var builder = ImmutableArray.CreateBuilder<Entry>(checked((int)Math.Min(entryCount, 1 << 20)));
            for (ulong i = 0; i < entryCount; i++)
            {
                var entryTerm = reader.ReadVarint();
                var entryIndex = reader.ReadVarint();
                var entryType = reader.ReadByte();
                if (entryType > (byte)EntryType.ConfChange) throw new FormatException($"Unknown entry type {entryType}.");
                builder.Add(new Entry(entryTerm, entryIndex, (EntryType)entryType, reader.ReadBytes()));
            }

            entries = builder.DrainToImmutable();
        }

        Snapshot? snapshot = null;
        if ((flags & FlagSnapshot) != 0)
        {
            var snapshotIndex = reader.ReadVarint();
            var snapshotTerm = reader.ReadVarint();
            var confState = ReadConfState(ref reader);
            snapshot = new Snapshot(new SnapshotMetadata(snapshotIndex, snapshotTerm, confState), reader.ReadBytes());
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

    /// <summary>Encodes a configuration (used in snapshot metadata and in the replica's own snapshot header).</summary>
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
