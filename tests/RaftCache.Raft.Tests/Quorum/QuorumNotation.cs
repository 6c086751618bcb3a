using System.Globalization;
using RaftCache.Raft.Quorum;

namespace RaftCache.Raft.Tests.Quorum;

/// <summary>
/// Reads the compact notation of the quorum tables: voters as "1 2 3", acked indexes as "1=5 2=7" (a voter not
/// listed has acknowledged nothing), votes as "1=y 2=n" (a voter not listed has not answered).
/// </summary>
internal static class QuorumNotation
{
    public static ulong[] Ids(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => ulong.Parse(s, CultureInfo.InvariantCulture))];

    public static MajorityConfig Majority(string voters) => new(Ids(voters));

    public static JointConfig Joint(string incoming, string outgoing) => new(Majority(incoming), Majority(outgoing));

    public static Acks Acks(string text)
    {
        var acks = new Acks();
        foreach (var pair in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            acks[ulong.Parse(parts[0], CultureInfo.InvariantCulture)] = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        return acks;
    }

    public static Dictionary<ulong, bool> Votes(string text)
    {
        var votes = new Dictionary<ulong, bool>();
        foreach (var pair in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            votes[ulong.Parse(parts[0], CultureInfo.InvariantCulture)] = parts[1] switch
            {
                "y" => true,
                "n" => false,
                _ => throw new FormatException($"vote '{parts[1]}' is neither y nor n"),
            };
        }

        return votes;
    }
}

/// <summary>Acked indexes by voter, as the leader's progress tracker would report them.</summary>
internal sealed class Acks : IAckedIndexer
{
    private readonly Dictionary<ulong, ulong> _indexes = [];

    public ulong this[ulong id]
    {
        set => _indexes[id] = value;
    }

    public IReadOnlyDictionary<ulong, ulong> Indexes => _indexes;

    public bool TryGetAckedIndex(ulong voterId, out ulong index) => _indexes.TryGetValue(voterId, out index);
}
