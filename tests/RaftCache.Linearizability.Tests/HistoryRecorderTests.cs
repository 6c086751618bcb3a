namespace RaftCache.Linearizability.Tests;

public class HistoryRecorderTests
{
    /// <summary>A clock that advances by one tick each time it is read, so recorded times are predictable.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _now;

        public override long GetTimestamp() => Interlocked.Increment(ref _now);
    }

    [Fact]
    public void Times_come_from_the_recorder_clock_at_invoke_and_complete()
    {
        var recorder = new HistoryRecorder(new SteppingClock());

        var put = recorder.Invoke(1, OperationKind.Put, "k", HistoryBuilder.Bytes("v"));
        var get = recorder.Invoke(2, OperationKind.Get, "k");
        recorder.Complete(put, OperationOutcome.Ok);
        recorder.Complete(get, OperationOutcome.Ok, OperationResult.Read(HistoryBuilder.Bytes("v")));
        var operations = recorder.ToHistory().Operations;

        Assert.Equal((1L, (long?)3L), (operations[0].InvokedAt, operations[0].CompletedAt));
        Assert.Equal((2L, (long?)4L), (operations[1].InvokedAt, operations[1].CompletedAt));
        Assert.Equal(HistoryBuilder.Bytes("v"), operations[1].ReadValue);
        Assert.True(LinearizabilityChecker.Check(recorder.ToHistory(), Checks.Budget).IsLinearizable);
    }

    [Fact]
    public void Operations_never_completed_are_recorded_as_unknown()
    {
        var recorder = new HistoryRecorder(new SteppingClock());

        recorder.Invoke(1, OperationKind.Delete, "k");
        var operation = Assert.Single(recorder.ToHistory().Operations);

        Assert.Equal(OperationOutcome.Unknown, operation.Outcome);
        Assert.Null(operation.CompletedAt);
    }

    [Fact]
    public void Results_are_recorded_with_their_outcomes()
    {
        var recorder = new HistoryRecorder(new SteppingClock());

        recorder.Complete(recorder.Invoke(1, OperationKind.Delete, "k"), OperationOutcome.Ok, OperationResult.Deleted(existed: false));
        recorder.Complete(recorder.Invoke(1, OperationKind.Get, "k"), OperationOutcome.Ok, OperationResult.Absent);
        recorder.Complete(recorder.Invoke(1, OperationKind.Put, "k", [1]), OperationOutcome.Failed);
        var operations = recorder.ToHistory().Operations;

        Assert.False(operations[0].Existed);
        Assert.Null(operations[1].ReadValue);
        Assert.Equal(OperationOutcome.Ok, operations[1].Outcome);
        Assert.Equal(OperationOutcome.Failed, operations[2].Outcome);
    }

    [Fact]
    public void Compare_and_sets_and_increments_are_recorded_with_their_results()
    {
        var recorder = new HistoryRecorder(new SteppingClock());
        byte[] expected = [7];

        var cas = recorder.Invoke(1, OperationKind.CompareAndSet, "k", [1], expected);
        expected[0] = 9;
        recorder.Complete(cas, OperationOutcome.Ok, OperationResult.CompareAndSet(succeeded: false));
        recorder.Invoke(1, OperationKind.CompareAndSet, "k", [2]);
        recorder.Complete(recorder.Invoke(2, OperationKind.Increment, "n"), OperationOutcome.Ok, OperationResult.Incremented(5));
        var operations = recorder.ToHistory().Operations;

        Assert.Equal([7], operations[0].ExpectedValue);
        Assert.False(operations[0].Succeeded);
        Assert.Null(operations[1].ExpectedValue);
        Assert.Equal(OperationOutcome.Unknown, operations[1].Outcome);
        Assert.Null(operations[1].Succeeded);
        Assert.Equal(5, operations[2].Number);
    }

    [Fact]
    public void Fields_that_do_not_fit_the_kind_are_rejected()
    {
        var recorder = new HistoryRecorder(new SteppingClock());
        var cas = recorder.Invoke(1, OperationKind.CompareAndSet, "k", [1]);
        var increment = recorder.Invoke(1, OperationKind.Increment, "n");

        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, OperationKind.CompareAndSet, "k"));
        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, OperationKind.Put, "k", [1], expectedValue: [2]));
        Assert.Throws<ArgumentException>(() => recorder.Invoke(1, OperationKind.Increment, "n", [1]));
        Assert.Throws<ArgumentException>(() => recorder.Complete(cas, OperationOutcome.Ok));
        Assert.Throws<ArgumentException>(() => recorder.Complete(cas, OperationOutcome.Ok, OperationResult.Incremented(1)));
        Assert.Throws<ArgumentException>(() => recorder.Complete(increment, OperationOutcome.Ok, OperationResult.CompareAndSet(true)));
        Assert.Throws<ArgumentException>(() => recorder.Complete(increment, OperationOutcome.Unknown, OperationResult.Incremented(1)));
        Assert.Throws<ArgumentException>(() => new Operation(0, 1, OperationKind.CompareAndSet, "k", [1], 0, 1, OperationOutcome.Ok));
        Assert.Throws<ArgumentException>(() => new Operation(0, 1, OperationKind.CompareAndSet, "k", [1], 0, null, OperationOutcome.Unknown, succeeded: true));
        Assert.Throws<ArgumentException>(() => new Operation(0, 1, OperationKind.Increment, "n", null, 0, 1, OperationOutcome.Ok));
        Assert.Throws<ArgumentException>(() => new Operation(0, 1, OperationKind.Get, "n", null, 0, 1, OperationOutcome.Ok, number: 1));
        Assert.Throws<ArgumentException>(() => new Operation(0, 1, OperationKind.Delete, "k", null, 0, 1, OperationOutcome.Ok, expectedValue: [1]));
    }

    [Fact]
    public void The_recorder_copies_values_so_callers_may_reuse_their_buffers()
    {
        var recorder = new HistoryRecorder(new SteppingClock());
        byte[] buffer = [1, 2, 3];

        var op = recorder.Invoke(1, OperationKind.Put, "k", buffer);
        recorder.Complete(op, OperationOutcome.Ok);
        buffer[0] = 9;

        Assert.Equal([1, 2, 3], recorder.ToHistory().Operations[0].Value);
    }

    [Fact]
    public void Completing_an_operation_twice_or_with_a_mismatched_result_throws()
    {
        var recorder = new HistoryRecorder(new SteppingClock());
        var get = recorder.Invoke(1, OperationKind.Get, "k");

        Assert.Throws<ArgumentException>(() => recorder.Complete(get, OperationOutcome.Ok));
        Assert.Throws<ArgumentException>(() => recorder.Complete(get, OperationOutcome.Unknown, OperationResult.Absent));
        recorder.Complete(get, OperationOutcome.Ok, OperationResult.Absent);
        Assert.Throws<InvalidOperationException>(() => recorder.Complete(get, OperationOutcome.Ok, OperationResult.Absent));
        Assert.Throws<ArgumentException>(() => new HistoryRecorder().Complete(get, OperationOutcome.Failed));
    }

    [Fact]
    public void Concurrent_clients_of_a_correctly_locked_register_record_a_linearizable_history()
    {
        var recorder = new HistoryRecorder();
        var gate = new Lock();
        var store = new Dictionary<string, byte[]>();

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, client =>
        {
            var random = new Random(client);
            for (var i = 0; i < 300; i++)
            {
                var key = $"k{random.Next(2)}";
                switch (random.Next(3))
                {
                    case 0:
                        var value = HistoryBuilder.Bytes($"c{client}-{i}");
                        var put = recorder.Invoke(client, OperationKind.Put, key, value);
                        lock (gate)
                        {
                            store[key] = value;
                        }

                        recorder.Complete(put, OperationOutcome.Ok);
                        break;
                    case 1:
                        var delete = recorder.Invoke(client, OperationKind.Delete, key);
                        bool existed;
                        lock (gate)
                        {
                            existed = store.Remove(key);
                        }

                        recorder.Complete(delete, OperationOutcome.Ok, OperationResult.Deleted(existed));
                        break;
                    default:
                        var get = recorder.Invoke(client, OperationKind.Get, key);
                        byte[]? read;
                        lock (gate)
                        {
                            read = store.GetValueOrDefault(key);
                        }

                        recorder.Complete(get, OperationOutcome.Ok, OperationResult.Read(read));
                        break;
                }
            }
        });

        var result = LinearizabilityChecker.Check(recorder.ToHistory(), Checks.Budget);

        Assert.Equal(2_400, recorder.Count);
        Assert.True(result.IsLinearizable, result.Explain());
    }
}
