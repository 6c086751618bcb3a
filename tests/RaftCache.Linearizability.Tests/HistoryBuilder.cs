using System.Text;

namespace RaftCache.Linearizability.Tests;

/// <summary>Builds small hand-written histories: times are plain integers, values are UTF-8 strings.</summary>
internal sealed class HistoryBuilder
{
    private readonly List<Operation> _operations = [];

    public string Key { get; set; } = "k";

    public static byte[] Bytes(string value) => Encoding.UTF8.GetBytes(value);

    public Operation Put(int client, string value, long start, long end, string? key = null) =>
        Add(client, OperationKind.Put, key, Bytes(value), start, end, OperationOutcome.Ok);

    public Operation UnknownPut(int client, string value, long start, string? key = null) =>
        Add(client, OperationKind.Put, key, Bytes(value), start, null, OperationOutcome.Unknown);

    public Operation FailedPut(int client, string value, long start, long end, string? key = null) =>
        Add(client, OperationKind.Put, key, Bytes(value), start, end, OperationOutcome.Failed);

    /// <summary>An Ok Get; <paramref name="read"/> null means the key was absent.</summary>
    public Operation Get(int client, string? read, long start, long end, string? key = null) =>
        Add(client, OperationKind.Get, key, null, start, end, OperationOutcome.Ok, read is null ? null : Bytes(read));

    public Operation UnknownGet(int client, long start, string? key = null) =>
        Add(client, OperationKind.Get, key, null, start, null, OperationOutcome.Unknown);

    public Operation Delete(int client, bool? existed, long start, long end, string? key = null) =>
        Add(client, OperationKind.Delete, key, null, start, end, OperationOutcome.Ok, existed: existed);

    public Operation UnknownDelete(int client, long start, string? key = null) =>
        Add(client, OperationKind.Delete, key, null, start, null, OperationOutcome.Unknown);

    public History Build() => new(_operations);

    private Operation Add(
        int client,
        OperationKind kind,
        string? key,
        byte[]? value,
        long start,
        long? end,
        OperationOutcome outcome,
        byte[]? read = null,
        bool? existed = null)
    {
        var op = new Operation(_operations.Count, client, kind, key ?? Key, value, start, end, outcome, read, existed);
        _operations.Add(op);
        return op;
    }
}
