namespace RaftCache.Raft.Tests.Simulation;

/// <summary>What the network hands to a node at a given time.</summary>
internal enum NetworkEventKind : byte
{
    /// <summary>A Raft message arrives at <see cref="NetworkEvent.Message"/>.To.</summary>
    Deliver,

    /// <summary>The transport tells a sender whether its snapshot reached the peer (RawNode.ReportSnapshot).</summary>
    SnapshotReport,

    /// <summary>The transport tells a sender a peer could not be reached (RawNode.ReportUnreachable).</summary>
    Unreachable,
}

/// <summary>A scheduled network event.</summary>
/// <param name="Kind">What happens.</param>
/// <param name="Message">The message delivered, or the one the report is about.</param>
/// <param name="Sender">The node that put the message on the wire: its From, unless it relays a peer's message.</param>
/// <param name="SenderIncarnation">The sender's incarnation when it sent: reports to a restarted sender are dropped.</param>
/// <param name="Success">For a snapshot report: whether it was delivered.</param>
internal readonly record struct NetworkEvent(NetworkEventKind Kind, Message Message, ulong Sender, int SenderIncarnation, bool Success);

/// <summary>
/// A simulated network: every message gets a seeded delay, may be lost or duplicated, and is dropped on a cut link.
/// Events are ordered by (time, sequence number), so equal times replay in the order they were scheduled.
/// </summary>
internal sealed class SimulatedNetwork
{
    private readonly PriorityQueue<NetworkEvent, (long Time, long Sequence)> _events = new();
    private readonly Random _random;
    private readonly bool[,] _cut;
    private readonly SimulationCounters _counters;
    private long _sequence;

    public SimulatedNetwork(int nodeCount, Random random, SimulationCounters counters)
    {
        _random = random;
        _counters = counters;
        _cut = new bool[nodeCount + 1, nodeCount + 1];
    }

    /// <summary>The current fault rates; healing turns them off.</summary>
    public FaultPlan Plan { get; set; } = new();

    /// <summary>Whether loss, duplication and long delays apply (off after healing).</summary>
    public bool FaultsEnabled { get; set; } = true;

    public bool IsCut(ulong from, ulong to) => _cut[from, to];

    public void Cut(ulong from, ulong to) => _cut[from, to] = true;

    /// <summary>Restores every link.</summary>
    public void RepairLinks() => Array.Clear(_cut);

    /// <summary>
    /// Sends <paramref name="message"/> at <paramref name="now"/>. The same instance may be delivered twice
    /// (duplication): messages are immutable once sent.
    /// </summary>
    public void Send(Message message, ulong sender, long now, int senderIncarnation)
    {
        _counters.MessagesSent++;
        if (_cut[sender, message.To])
        {
            Drop(message, sender, now, senderIncarnation, linkCut: true);
            return;
        }

        if (FaultsEnabled && _random.NextDouble() < Plan.LossRate)
        {
            Drop(message, sender, now, senderIncarnation, linkCut: false);
            return;
        }

        Schedule(new NetworkEvent(NetworkEventKind.Deliver, message, sender, senderIncarnation, true), now + Delay());
        if (FaultsEnabled && _random.NextDouble() < Plan.DuplicateRate)
        {
            _counters.MessagesDuplicated++;
            Schedule(new NetworkEvent(NetworkEventKind.Deliver, message, sender, senderIncarnation, true), now + Delay());
        }
    }

    /// <summary>Called when a message could not be delivered after all (target down, link cut while in flight).</summary>
    public void Drop(Message message, ulong sender, long now, int senderIncarnation, bool linkCut)
    {
        _counters.MessagesDropped++;

        // A real transport learns of failed sends (a broken connection, a failed snapshot call) and says so; it
        // cannot tell about silently lost datagrams, so plain loss reports nothing.
        if (message.Type == MessageType.InstallSnapshot)
        {
            Schedule(new NetworkEvent(NetworkEventKind.SnapshotReport, message, sender, senderIncarnation, false), now + Delay());
        }
        else if (linkCut)
        {
            Schedule(new NetworkEvent(NetworkEventKind.Unreachable, message, sender, senderIncarnation, false), now + Delay());
        }
    }

    /// <summary>Reports a delivered snapshot back to its sender.</summary>
    public void ReportSnapshotDelivered(Message message, ulong sender, long now, int senderIncarnation) =>
        Schedule(new NetworkEvent(NetworkEventKind.SnapshotReport, message, sender, senderIncarnation, true), now + Delay());

    /// <summary>Takes the next event due at or before <paramref name="until"/>.</summary>
    public bool TryNext(long until, out NetworkEvent networkEvent, out long time)
    {
        if (_events.TryPeek(out networkEvent, out var priority) && priority.Time <= until)
        {
            _events.Dequeue();
            time = priority.Time;
            return true;
        }

        time = 0;
        return false;
    }

    private void Schedule(NetworkEvent networkEvent, long time) => _events.Enqueue(networkEvent, (time, _sequence++));

    private long Delay()
    {
        long delay = Plan.MinDelay + _random.Next(Plan.DelayJitter + 1);
        if (FaultsEnabled && _random.NextDouble() < Plan.LongDelayRate) delay += _random.Next(Plan.LongDelay + 1);
        return delay;
    }
}
