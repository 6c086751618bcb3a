using System.Text;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>The kinds of step a run takes, as recorded in its trace.</summary>
internal enum TraceKind : byte
{
    Tick,
    Deliver,
    Drop,
    SnapshotReport,
    Unreachable,
    Crash,
    Restart,
    Partition,
    RepairLinks,
    Propose,
    Read,
    ReadAnswered,
    Transfer,
    BecameLeader,
    InstallSnapshot,
    Compact,
    Heal,

    // Added last so that the codes of the kinds above, and the fingerprints of runs without membership, stay as they were.
    ConfChangeProposed,
    ConfChangeApplied,
}

/// <summary>One step of a run, kept as plain values so recording costs no formatting.</summary>
internal readonly record struct TraceEvent(
    long Time, TraceKind Kind, ulong Node, ulong Peer, MessageType MessageType, ulong Term, ulong Index, ulong Extra);

/// <summary>
/// The recent steps of a run (printed with a failure) and a fingerprint of all of them (compared by the replay test:
/// the same seed must take exactly the same steps).
/// </summary>
internal sealed class SimulationTrace
{
    private const int Capacity = 80;
    private readonly TraceEvent[] _recent = new TraceEvent[Capacity];
    private long _count;

    public ulong Fingerprint { get; private set; }

    public void Record(TraceEvent step)
    {
        _recent[_count % Capacity] = step;
        _count++;
        var hash = Hashing.Mix(Fingerprint, (ulong)step.Time);
        hash = Hashing.Mix(hash, ((ulong)step.Kind << 56) | ((ulong)step.MessageType << 48) | (step.Node << 24) | step.Peer);
        hash = Hashing.Mix(hash, step.Term);
        hash = Hashing.Mix(hash, step.Index);
        Fingerprint = Hashing.Mix(hash, step.Extra);
    }

    public string Describe()
    {
        var text = new StringBuilder();
        var first = Math.Max(0, _count - Capacity);
        for (var i = first; i < _count; i++)
        {
            var step = _recent[i % Capacity];
            var tick = step.Time / SimulationScenario.UnitsPerTick;
            var unit = step.Time % SimulationScenario.UnitsPerTick;
            text.Append($"  t={tick}.{unit} {step.Kind} node {step.Node}");
            switch (step.Kind)
            {
                case TraceKind.Deliver or TraceKind.Drop:
                    text.Append($" from {step.Peer}: {step.MessageType} term {step.Term} index {step.Index} (entries/commit {step.Extra})");
                    break;
                case TraceKind.BecameLeader:
                    text.Append($" term {step.Term} last index {step.Index}");
                    break;
                case TraceKind.Propose:
                    text.Append($": {(ProposeOutcome)step.Extra} at ({step.Term}, {step.Index})");
                    break;
                case TraceKind.Read:
                    text.Append($": read {step.Extra} requested, commit floor {step.Index}");
                    break;
                case TraceKind.ReadAnswered:
                    text.Append($": read {step.Extra} answered at {step.Index}");
                    break;
                case TraceKind.InstallSnapshot:
                    text.Append($": snapshot ({step.Term}, {step.Index})");
                    break;
                case TraceKind.Compact:
                    text.Append($": snapshot at {step.Index}, log compacted to {step.Extra}");
                    break;
                case TraceKind.Transfer or TraceKind.SnapshotReport or TraceKind.Unreachable:
                    text.Append($" peer {step.Peer} extra {step.Extra}");
                    break;
                case TraceKind.ConfChangeProposed:
                    text.Append($": {(ProposeOutcome)step.Extra} at ({step.Term}, {step.Index}), {ConfChangeDescription.Unpack(step.Peer)}");
                    break;
                case TraceKind.ConfChangeApplied:
                    text.Append($": entry {step.Index} (term {step.Term}), {ConfChangeDescription.Unpack(step.Peer)}, now {ConfChangeDescription.Unpack(step.Extra)}");
                    break;
                case TraceKind.Partition or TraceKind.Crash or TraceKind.Restart:
                    text.Append($" extra {step.Extra}");
                    break;
                default:
                    break;
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
