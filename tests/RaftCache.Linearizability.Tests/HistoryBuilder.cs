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

    /// <summary>An Ok CompareAndSet; <paramref name="expected"/> null means the key had to be absent.</summary>
    public Operation Cas(int client, string value, string? expected, bool succeeded, long start, long end, string? key = null) =>
        Add(client, OperationKind.CompareAndSet, key, Bytes(value), start, end, OperationOutcome.Ok, expected: Optional(expected), succeeded: succeeded);

    public Operation UnknownCas(int client, string value, string? expected, long start, string? key = null) =>
        Add(client, OperationKind.CompareAndSet, key, Bytes(value), start, null, OperationOutcome.Unknown, expected: Optional(expected));

    public Operation FailedCas(int client, string value, string? expected, long start, long end, string? key = null) =>
        Add(client, OperationKind.CompareAndSet, key, Bytes(value), start, end, OperationOutcome.Failed, expected: Optional(expected));

    public Operation Increment(int client, long returned, long start, long end, string? key = null) =>
        Add(client, OperationKind.Increment, key, null, start, end, OperationOutcome.Ok, number: returned);

    public Operation UnknownIncrement(int client, long start, string? key = null) =>
        Add(client, OperationKind.Increment, key, null, start, null, OperationOutcome.Unknown);

    public Operation FailedIncrement(int client, long start, long end, string? key = null) =>
        Add(client, OperationKind.Increment, key, null, start, end, OperationOutcome.Failed);

    public History Build() => new(_operations);

    private static byte[]? Optional(string? value) => value is null ? null : Bytes(value);

    private Operation Add(
        int client,
        OperationKind kind,
        string? key,
        byte[]? value,
        long start,
        long? end,
        OperationOutcome outcome,
        byte[]? read = null,
        bool? existed = null,
        byte[]? expected = null,
        bool? succeeded = null,
        long? number = null)
    {
        var op = new Operation(_operations.Count, client, kind, key ?? Key, value, start, end, outcome, read, existed, expected, succeeded, number);
        _operations.Add(op);
        return op;
    }
}
