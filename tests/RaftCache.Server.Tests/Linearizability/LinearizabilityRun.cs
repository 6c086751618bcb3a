using System.Diagnostics;
using System.Globalization;
using System.Text;
using RaftCache.Linearizability;
using Xunit.Abstractions;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// One seeded run: a workload of many clients against a cluster under a fault schedule, then healing, quiescence and
/// the checks. Every problem found is collected, so a failure reports all of them with the seed and the history file.
/// </summary>
internal sealed class LinearizabilityRun(int seed, LinearizabilitySettings settings, ITestOutputHelper output)
{
    private readonly List<string> _problems = [];
    private readonly StringBuilder _report = new();

    public async Task ExecuteAsync()
    {
        var watch = Stopwatch.StartNew();
        var recorder = new HistoryRecorder();
        FaultSchedule? schedule = null;
        CacheWorkload? workload = null;
        try
        {
            await using var cluster = await CacheCluster.StartAsync(settings.InitialSilos, options =>
            {
                options.RequestTimeout = settings.RequestTimeout;
                options.Groups = settings.Groups;
            });
            try
            {
                // No TTL is used and the default capacity (10 million entries, 1 GiB) is never reached, so nothing
                // expires or is evicted: the register model applies exactly.
                await cluster.WaitForStableGroupAsync(voters: 3, settings.RecoveryDeadline, learners: 0, groups: settings.Groups);
                Note($"cluster of {settings.InitialSilos} silos and {settings.Groups} group(s) stable after {watch.Elapsed.TotalSeconds:F1} s");

                workload = new CacheWorkload(cluster, recorder, settings, seed);
                await using (workload)
                {
                    workload.Start();
                    // The first fault kills the leader; let writes be in flight everywhere before it does.
                    await workload.WaitForOkOperationsAsync(100, settings.RecoveryDeadline);
                    schedule = new FaultSchedule(cluster, seed, settings);
                    await schedule.RunAsync(settings.WorkloadDuration);
                    await workload.StopAsync();
                }

                Note($"workload stopped after {watch.Elapsed.TotalSeconds:F1} s");
                cluster.Faults.Heal();
                await schedule.WaitForGroupAsync("the end of the schedule");
                await cluster.WaitForQuiescenceAsync(settings.RecoveryDeadline);

                // A final linearizable Get of every key joins the history, so the checker also decides whether the
                // final value is the last write of some linearization: an acknowledged write that vanished fails here.
                var final = await workload.ReadFinalValuesAsync(client: settings.Clients);
                await CheckReplicasAsync(cluster, final);

                var leaderChangesSeen = cluster.Cluster.GetActiveSilos().Sum(s => cluster.SiloService<RaftCacheInstruments>(s).LeaderChanges);
                var followerReads = cluster.Cluster.GetActiveSilos().Sum(s => cluster.SiloService<RaftCacheInstruments>(s).FollowerReads);
                Note($"linearizable reads served by followers on the surviving silos: {followerReads}");
                if (followerReads < 1) _problems.Add("No linearizable read was served by a follower.");
                Note($"faults: {string.Join(", ", schedule.Applied)}");
                // Each replica counts every change of the leader it knows, including learning the first one, so the sum
                // over replicas is larger than the number of elections; the schedule's own observation is required.
                Note($"leader changes: {schedule.LeaderChanges} observed by the schedule; {leaderChangesSeen} leader-change events counted by the surviving replicas");
                if (schedule.LeaderChanges < 1) _problems.Add("The run saw no leader change.");
            }
            finally
            {
                // Partitions left behind by a failure would slow down stopping the silos.
                cluster.Faults.Heal();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _problems.Add($"The run failed: {e}");
        }
        finally
        {
            if (schedule is not null) Note("timeline:" + Environment.NewLine + string.Join(Environment.NewLine, schedule.Timeline.Select(t => "  " + t)));
        }

        var history = recorder.ToHistory();
        CheckHistory(history, workload);
        Note($"run took {watch.Elapsed.TotalSeconds:F1} s");

        string? path = null;
        if (_problems.Count > 0 || settings.KeepHistories)
        {
            Directory.CreateDirectory(settings.HistoryDirectory);
            path = Path.Combine(settings.HistoryDirectory, string.Create(CultureInfo.InvariantCulture, $"history-seed{seed}-{DateTime.UtcNow:yyyyMMddHHmmss}.jsonl"));
            history.Save(path);
            Note($"history written to {path}");
        }

        output.WriteLine(_report.ToString());
        if (_problems.Count > 0)
        {
            Assert.Fail($"Seed {seed} failed (replay with {LinearizabilitySettings.SeedVariable}={seed} {LinearizabilitySettings.RunsVariable}=1); history: {path}"
                + Environment.NewLine + string.Join(Environment.NewLine, _problems)
                + Environment.NewLine + _report);
        }
    }

    /// <summary>After quiescence every replica holds the final values, and all state digests agree.</summary>
    private async Task CheckReplicasAsync(CacheCluster cluster, IReadOnlyDictionary<string, byte[]?> final)
    {
        var status = await cluster.WaitForQuiescenceAsync(settings.RecoveryDeadline);
        var agreeing = 0;
        foreach (var group in status.Groups)
        {
            var replicas = status.Replicas.Where(r => r.Group == group).ToList();
            if (replicas.Select(r => r.StateDigest).Distinct().Count() == 1) agreeing++;
            else _problems.Add($"State digests of group {group} differ after quiescence:" + Environment.NewLine + string.Join(Environment.NewLine, replicas.Select(r => $"  {r.Silo} applied={r.Applied} digest={r.StateDigest:x16}")));
        }

        var layout = (await cluster.Facade.GetLimits()).Layout!;
        foreach (var silo in cluster.Cluster.GetActiveSilos())
        {
            var replica = cluster.Replica(silo);
            var held = status.Replicas.Where(r => r.Silo == silo.SiloAddress.ToString()).Select(r => r.Group).ToHashSet();
            foreach (var (key, expected) in final)
            {
                var bytes = Encoding.UTF8.GetBytes(key);
                var group = layout.GroupOf(bytes);
                if (!held.Contains(group)) continue;
                var reply = await replica.ReadAsync(bytes, ReadConsistency.Local, settings.RequestTimeout, group);
                if (reply.Status != CacheStatusCode.Ok || !Equal(reply.Value, expected))
                    _problems.Add($"Replica on {silo.SiloAddress} holds {Text(reply.Value)} ({reply.Status}) for {key}; the final linearizable read returned {Text(expected)}.");
            }
        }

        Note($"final values: {string.Join(", ", final.Select(f => $"{f.Key}={Text(f.Value)}"))}; the replicas of {agreeing} of {status.Groups.Length} group(s) agree on their digest");
    }

    private void CheckHistory(History history, CacheWorkload? workload)
    {
        var result = LinearizabilityChecker.Check(history, settings.CheckBudget);
        Note($"check: {result.Verdict} in {result.Elapsed.TotalMilliseconds:F0} ms; " + string.Join(", ", result.Keys.Select(k => $"{k.Key}: {k.OperationCount} ops, {k.Steps} steps")));
        if (!result.IsLinearizable) _problems.Add(result.Explain());

        var operations = history.Operations;
        var unknownWrites = operations.Count(op => op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get);
        Note($"operations: {operations.Count} ({operations.Count(op => op.Outcome == OperationOutcome.Ok)} ok, "
            + $"{operations.Count(op => op.Outcome == OperationOutcome.Failed)} failed, {operations.Count(op => op.Outcome == OperationOutcome.Unknown)} unknown of which {unknownWrites} writes)");
        if (workload is not null) Note("outcomes: " + workload.DescribeCounters() + Environment.NewLine + workload.DescribeLastErrors());

        // The run must have exercised something: concurrent operations on every key and writes of unknown outcome.
        foreach (var key in HistoryStatistics.Concurrency(history))
        {
            Note($"key {key.Key}: {key.Operations} checked operations, {key.Overlapping} overlapping another, at most {key.MaxConcurrent} completed ones at once");
            if (key.Overlapping < settings.MinOverlappingPerKey)
                _problems.Add($"Key {key.Key} saw only {key.Overlapping} overlapping operations (at least {settings.MinOverlappingPerKey} needed).");
        }

        if (unknownWrites < 1) _problems.Add("No write had an unknown outcome, although the leader was killed while writes were in flight.");

        // Compare-and-set and increments must have been exercised both ways: a check of sets that all failed, or of a
        // counter nobody incremented, would prove little.
        var casSet = operations.Count(op => op.Succeeded == true);
        var casNotSet = operations.Count(op => op.Succeeded == false);
        var increments = operations.Count(op => op.Kind == OperationKind.Increment && op.Outcome == OperationOutcome.Ok);
        Note($"compare-and-sets: {casSet} set ({operations.Count(op => op.Succeeded == true && op.ExpectedValue is null)} of them put-if-absent), {casNotSet} not set, "
            + $"{operations.Count(op => op.Kind == OperationKind.CompareAndSet && op.Outcome == OperationOutcome.Unknown)} unknown; increments: {increments} ok, "
            + $"{operations.Count(op => op.Kind == OperationKind.Increment && op.Outcome == OperationOutcome.Unknown)} unknown");
        if (casSet < 1 || casNotSet < 1) _problems.Add($"Compare-and-set was not exercised both ways: {casSet} set, {casNotSet} not set.");
        if (settings.CounterKeys > 0 && increments < 1) _problems.Add("No increment succeeded.");
        if (workload is not null)
        {
            var (calls, commands) = workload.Batches;
            Note($"batches: {commands} operations in {calls} calls ({(calls == 0 ? 0 : (double)commands / calls):F2} per call)");
            // Clients pause a few milliseconds between operations, so batches stay small; above 1.1 operations per call
            // means thousands of calls carried several.
            if (commands < calls * 1.1) _problems.Add($"Too few operations were batched: {commands} operations in {calls} calls (at least 1.1 per call expected).");
        }
    }

    private void Note(string line) => _report.AppendLine(line);

    private static bool Equal(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string Text(byte[]? value) => value is null ? "absent" : '"' + Encoding.UTF8.GetString(value) + '"';
}
