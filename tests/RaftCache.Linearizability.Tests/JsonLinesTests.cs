using System.Text;

namespace RaftCache.Linearizability.Tests;

public class JsonLinesTests
{
    private static History EveryKindOfOperation()
    {
        byte[] binary = [0xFF, 0x00, 0xC3, 0x28];
        return new History(
        [
            new Operation(0, 1, OperationKind.Put, "k1", HistoryBuilder.Bytes("v1"), 10, 20, OperationOutcome.Ok),
            new Operation(1, 2, OperationKind.Put, "k2", binary, 11, 21, OperationOutcome.Ok),
            new Operation(2, 1, OperationKind.Get, "k1", null, 22, 30, OperationOutcome.Ok, readValue: HistoryBuilder.Bytes("v1")),
            new Operation(3, 2, OperationKind.Get, "k2", null, 22, 31, OperationOutcome.Ok, readValue: binary),
            new Operation(4, 3, OperationKind.Get, "k3", null, 23, 32, OperationOutcome.Ok),
            new Operation(5, 3, OperationKind.Delete, "k1", null, 33, 40, OperationOutcome.Ok, existed: true),
            new Operation(6, 1, OperationKind.Delete, "k3", null, 33, 41, OperationOutcome.Ok, existed: false),
            new Operation(7, 2, OperationKind.Delete, "k2", null, 34, 42, OperationOutcome.Ok),
            new Operation(8, 4, OperationKind.Put, "k1", HistoryBuilder.Bytes("snow \u2603 \"quoted\"\n"), 50, 90, OperationOutcome.Unknown),
            new Operation(9, 5, OperationKind.Put, "k1", HistoryBuilder.Bytes("v9"), 51, null, OperationOutcome.Unknown),
            new Operation(10, 6, OperationKind.Get, "k1", null, 52, null, OperationOutcome.Unknown),
            new Operation(11, 7, OperationKind.Put, "k1", HistoryBuilder.Bytes("v11"), 53, 54, OperationOutcome.Failed),
            new Operation(12, 1, OperationKind.CompareAndSet, "k1", HistoryBuilder.Bytes("v12"), 60, 61, OperationOutcome.Ok, expectedValue: HistoryBuilder.Bytes("v1"), succeeded: true),
            new Operation(13, 2, OperationKind.CompareAndSet, "k2", HistoryBuilder.Bytes("v13"), 60, 62, OperationOutcome.Ok, succeeded: false),
            new Operation(14, 3, OperationKind.CompareAndSet, "k2", HistoryBuilder.Bytes("v14"), 61, null, OperationOutcome.Unknown, expectedValue: binary),
            new Operation(15, 4, OperationKind.CompareAndSet, "k2", HistoryBuilder.Bytes("v15"), 61, 63, OperationOutcome.Failed, expectedValue: HistoryBuilder.Bytes("v1")),
            new Operation(16, 5, OperationKind.Increment, "n", null, 70, 71, OperationOutcome.Ok, number: 1),
            new Operation(17, 6, OperationKind.Increment, "n", null, 70, null, OperationOutcome.Unknown),
            new Operation(18, 7, OperationKind.Get, "n", null, 72, 73, OperationOutcome.Ok, readValue: HistoryBuilder.Bytes("1")),
        ]);
    }

    private static History RoundTrip(History history)
    {
        using var stream = new MemoryStream();
        history.WriteJsonLines(stream);
        stream.Position = 0;
        return History.ReadJsonLines(stream);
    }

    private static void AssertSameOperations(History expected, History actual)
    {
        Assert.Equal(expected.Operations.Count, actual.Operations.Count);
        foreach (var (e, a) in expected.Operations.Zip(actual.Operations))
        {
            Assert.Equal(e.Id, a.Id);
            Assert.Equal(e.ClientId, a.ClientId);
            Assert.Equal(e.Kind, a.Kind);
            Assert.Equal(e.Key, a.Key);
            Assert.Equal(e.Value, a.Value);
            Assert.Equal(e.InvokedAt, a.InvokedAt);
            Assert.Equal(e.CompletedAt, a.CompletedAt);
            Assert.Equal(e.Outcome, a.Outcome);
            Assert.Equal(e.ReadValue, a.ReadValue);
            Assert.Equal(e.Existed, a.Existed);
            Assert.Equal(e.ExpectedValue, a.ExpectedValue);
            Assert.Equal(e.Succeeded, a.Succeeded);
            Assert.Equal(e.Number, a.Number);
        }
    }

    [Fact]
    public void A_history_survives_a_round_trip_through_json_lines()
    {
        var history = EveryKindOfOperation();

        AssertSameOperations(history, RoundTrip(history));
    }

    [Fact]
    public void Each_operation_is_one_line_with_text_values_readable_and_binary_values_in_base64()
    {
        using var stream = new MemoryStream();
        EveryKindOfOperation().WriteJsonLines(stream);
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(19, lines.Length);
        Assert.Equal("""{"id":0,"client":1,"kind":"Put","key":"k1","value":"v1","invokedAt":10,"completedAt":20,"outcome":"Ok"}""", lines[0]);
        Assert.Contains("\"valueBase64\":\"/wDDKA==\"", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"read\":null", lines[4], StringComparison.Ordinal);
        Assert.Contains("\"existed\":false", lines[6], StringComparison.Ordinal);
        Assert.Contains("\"completedAt\":null", lines[9], StringComparison.Ordinal);
        Assert.Equal("""{"id":12,"client":1,"kind":"CompareAndSet","key":"k1","value":"v12","expected":"v1","invokedAt":60,"completedAt":61,"outcome":"Ok","succeeded":true}""", lines[12]);
        Assert.Contains("\"expected\":null", lines[13], StringComparison.Ordinal);
        Assert.Contains("\"succeeded\":false", lines[13], StringComparison.Ordinal);
        Assert.Contains("\"expectedBase64\":\"/wDDKA==\"", lines[14], StringComparison.Ordinal);
        Assert.Equal("""{"id":16,"client":5,"kind":"Increment","key":"n","invokedAt":70,"completedAt":71,"outcome":"Ok","number":1}""", lines[16]);
    }

    [Fact]
    public void A_history_saved_to_a_file_loads_back_and_checks_the_same()
    {
        var history = RandomHistories.Generate(seed: 5, clients: 6, operationsPerClient: 40, keys: 2).History;
        var path = Path.Combine(Path.GetTempPath(), $"raftcache-history-{Guid.NewGuid():N}.jsonl");
        try
        {
            history.Save(path);
            var loaded = History.Load(path);

            AssertSameOperations(history, loaded);
            Assert.Equal(Verdict.Linearizable, Checks.Check(loaded).Verdict);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_compare_and_set_without_an_expected_value_is_malformed_rather_than_expecting_absent()
    {
        var text = """{"id":0,"client":1,"kind":"CompareAndSet","key":"k","value":"v","invokedAt":1,"completedAt":2,"outcome":"Ok","succeeded":true}""";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        var error = Assert.Throws<FormatException>(() => History.ReadJsonLines(stream));

        Assert.Contains("\"expected\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_line_is_reported_with_its_line_number()
    {
        var text = """
            {"id":0,"client":1,"kind":"Put","key":"k","value":"v","invokedAt":1,"completedAt":2,"outcome":"Ok"}

            {"id":1,"client":1,"kind":"Get","key":"k","invokedAt":3,"completedAt":4,"outcome":"Ok"}
            """;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        var error = Assert.Throws<FormatException>(() => History.ReadJsonLines(stream));

        Assert.StartsWith("Line 3 ", error.Message, StringComparison.Ordinal);
    }
}
