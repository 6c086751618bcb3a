namespace RaftCache.Linearizability;

/// <summary>An immutable list of recorded <see cref="Operation"/>s, in any order.</summary>
/// <remarks>
/// Produced by <see cref="HistoryRecorder.ToHistory"/> or built directly; checked with
/// <see cref="LinearizabilityChecker.Check"/>; saved and loaded as JSON lines (one operation per line) with
/// <see cref="Save"/> and <see cref="Load"/>.
/// </remarks>
public sealed class History
{
    private readonly Operation[] _operations;

    /// <summary>Creates a history from <paramref name="operations"/>.</summary>
    /// <exception cref="ArgumentException">An operation is <see langword="null"/>, or two share an id.</exception>
    public History(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        _operations = [.. operations];
        var ids = new HashSet<long>();
        foreach (var op in _operations)
        {
            if (op is null)
            {
                throw new ArgumentException("A history cannot contain null operations.", nameof(operations));
            }

            if (!ids.Add(op.Id))
            {
                throw new ArgumentException($"Two operations have id {op.Id}.", nameof(operations));
            }
        }
    }

    /// <summary>The operations, in the order given.</summary>
    public IReadOnlyList<Operation> Operations => _operations;

    /// <summary>Writes the history as JSON lines, one operation per line.</summary>
    /// <remarks>
    /// Each line looks like
    /// <c>{"id":3,"client":1,"kind":"Get","key":"k0","invokedAt":120,"completedAt":180,"outcome":"Ok","read":"v2"}</c>.
    /// Values that are valid UTF-8 are written as text (<c>"value"</c>, <c>"read"</c>), others as base64
    /// (<c>"valueBase64"</c>, <c>"readBase64"</c>, <c>"expectedBase64"</c>); <c>"read":null</c> means the Get found
    /// the key absent. A CompareAndSet has <c>"expected"</c> (<c>null</c>: the key had to be absent) and, when Ok,
    /// <c>"succeeded"</c>; an Ok Increment has <c>"number"</c>, the value it returned.
    /// </remarks>
    public void WriteJsonLines(Stream stream) => HistoryJsonLines.Write(this, stream);

    /// <summary>Reads a history written by <see cref="WriteJsonLines"/>. Blank lines are ignored.</summary>
    /// <exception cref="FormatException">A line is not a valid operation; the message gives its line number.</exception>
    public static History ReadJsonLines(Stream stream) => HistoryJsonLines.Read(stream);

    /// <summary>Writes the history to <paramref name="path"/> as JSON lines (see <see cref="WriteJsonLines"/>).</summary>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        WriteJsonLines(stream);
    }

    /// <summary>Reads a history from a JSON lines file written by <see cref="Save"/>.</summary>
    public static History Load(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadJsonLines(stream);
    }
}
