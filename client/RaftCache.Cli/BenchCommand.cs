using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftCache.Bench;
using RaftCache.Client;
using Spectre.Console;

namespace RaftCache.Cli;

/// <summary>What one bench run does.</summary>
internal sealed record BenchSettings(
    IReadOnlyList<string> Ops, ReadConsistency Consistency, int Concurrency, long? Count, TimeSpan Duration, TimeSpan Warmup,
    int Keys, int ValueSize, double ReadFraction, bool Json, int Fill = 0);

/// <summary>The measured outcome of one phase.</summary>
/// <param name="Name">The phase, as the report names it.</param>
/// <param name="Tally">Successes, misses and errors by type.</param>
/// <param name="Seconds">The measured time.</param>
/// <param name="Latency">Latencies of the successful operations.</param>
/// <param name="Traffic">Orleans messages and the client's batch calls during the measured time.</param>
internal sealed record PhaseResult(string Name, BenchTally Tally, double Seconds, LatencyHistogram Latency, Traffic Traffic)
{
    /// <summary>Successful operations per second: failed ones are no throughput.</summary>
    public double OpsPerSecond => Tally.OpsPerSecond(Seconds);

    /// <summary>Orleans messages (sent by the silos, and by this client) per operation.</summary>
    public double MessagesPerOperation => Tally.Attempts == 0 ? 0 : (double)Traffic.Messages / Tally.Attempts;
}

/// <summary>What crossed the wire during a phase: Orleans messages sent by the silos, and this client's calls and the operations they carried.</summary>
internal readonly record struct Traffic(long SiloMessages, long Calls, long Commands)
{
    /// <summary>Every Orleans message: the silos' (to one another and to clients) and the client's own calls.</summary>
    public long Messages => SiloMessages + Calls;

    /// <summary>Operations per batch call, or null if the phase made no batch calls (the no-op ceiling).</summary>
    public double? CommandsPerCall => Commands == 0 || Calls == 0 ? null : (double)Commands / Calls;

    public static Traffic operator -(Traffic a, Traffic b) => new(a.SiloMessages - b.SiloMessages, a.Calls - b.Calls, a.Commands - b.Commands);
}

/// <summary>
/// <c>bench</c>: a bounded load against the cache, measured next to the no-op ceiling (the same client and
/// concurrency calling a grain that does nothing), so that cache throughput reads as a fraction of what a bare Orleans
/// call achieves on the same machine.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static Command Build()
    {
        var op = new Option<string>("--op")
        {
            Description = "put, get, or mix (gets and puts, see --read-fraction); several, comma-separated, run one phase each (put,get). " +
                "idle measures what the cluster sends with no load: Orleans messages per second over --duration.",
            DefaultValueFactory = _ => "put",
        };
        op.Validators.Add(r =>
        {
            foreach (var name in SplitOps(r.GetValueOrDefault<string>() ?? ""))
                if (name is not ("put" or "get" or "mix" or "idle")) r.AddError($"--op: '{name}' is not put, get, mix or idle.");
            if (SplitOps(r.GetValueOrDefault<string>() ?? "") is { Length: > 1 } ops && ops.Contains("idle")) r.AddError("--op idle runs alone.");
        });
        var fill = new Option<int>("--fill")
        {
            Description = "First store this many distinct keys (bench:0 ... bench:N-1, --value-size bytes each) and report the cluster's memory per entry; the phases then use those keys.",
        };
        fill.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 100_000_000) r.AddError("--fill must be between 0 and 100000000."); });
        var consistency = Commands.ConsistencyOption("Consistency of the gets: linearizable (default), lease or local.");
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent requests in flight.", DefaultValueFactory = _ => 64 };
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many operations per phase (instead of --duration)." };
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "Length of each measured phase (default 10s).",
            CustomParser = Durations.ParsePositive,
            HelpName = "DURATION",
        };
        var warmup = new Option<TimeSpan?>("--warmup")
        {
            Description = "Unmeasured load before each phase, so the JIT and connections settle (default 1s; 0s for none).",
            CustomParser = Durations.ParseNonNegative,
            HelpName = "DURATION",
        };
        var keys = new Option<int>("--keys") { Description = "Number of distinct keys.", DefaultValueFactory = _ => 1000 };
        var valueSize = new Option<int>("--value-size") { Description = "Value size in bytes.", DefaultValueFactory = _ => 100 };
        var readFraction = new Option<double>("--read-fraction") { Description = "mix: the fraction of operations that are gets.", DefaultValueFactory = _ => 0.5 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON, without progress display." };
        concurrency.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 10_000) r.AddError("--concurrency must be between 1 and 10000."); });
        count.Validators.Add(r => { if (r.GetValueOrDefault<long?>() is < 1) r.AddError("--count must be positive."); });
        keys.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 10_000_000) r.AddError("--keys must be between 1 and 10000000."); });
        valueSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 16 * 1024 * 1024) r.AddError("--value-size must be between 0 and 16777216."); });
        readFraction.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or > 1 or double.NaN) r.AddError("--read-fraction must be between 0 and 1."); });

        var command = new Command("bench", "Measure throughput and latency (p50/p90/p99/p99.9) of an operation, and the no-op ceiling of the same client.")
        {
            op, consistency, concurrency, count, duration, warmup, keys, valueSize, readFraction, json, fill,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(count) is not null && r.GetResult(duration) is not null) r.AddError("Use --count or --duration, not both.");
        });
        command.SetAction((parse, cancellation) => Commands.RunAsync(parse, connection =>
        {
            var filled = parse.GetValue(fill);
            var settings = new BenchSettings(
                SplitOps(parse.GetValue(op)!), Commands.ParseConsistency(parse.GetValue(consistency)!), parse.GetValue(concurrency),
                parse.GetValue(count), parse.GetValue(duration) ?? TimeSpan.FromSeconds(10), parse.GetValue(warmup) ?? TimeSpan.FromSeconds(1),
                filled > 0 ? filled : parse.GetValue(keys), parse.GetValue(valueSize), parse.GetValue(readFraction), parse.GetValue(json), filled);
            return RunAsync(connection, settings, cancellation);
        }, cancellation));
        return command;
    }

    private static string[] SplitOps(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<int> RunAsync(ClusterConnection connection, BenchSettings settings, CancellationToken cancellation)
    {
        var cache = connection.Cache;
        var noop = connection.Client.GetGrain<IRaftCacheNoOpGrain>(0);
        var keys = Enumerable.Range(0, settings.Keys).Select(i => Encoding.UTF8.GetBytes($"bench:{i}")).ToArray();
        var value = new byte[settings.ValueSize];
        new Random(42).NextBytes(value);

        if (settings.Ops is ["idle"]) return await IdleAsync(cache, settings, cancellation).ConfigureAwait(false);
        var memoryBefore = ClusterMemory.From(await cache.GetStatusAsync(cancellation).ConfigureAwait(false));
        FillResult? fill = null;
        if (settings.Fill > 0)
        {
            fill = await FillAsync(cache, keys, value, settings, cancellation).ConfigureAwait(false);
        }
        else if (settings.Ops.Any(o => o is "get" or "mix"))
        {
            // Gets of absent keys would measure misses, not reads of values: store every key first.
            if (!settings.Json) Console.WriteLine($"Pre-populating {keys.Length} keys...");
            await FillAsync(cache, keys, value, settings, cancellation).ConfigureAwait(false);
        }

        var memoryFilled = ClusterMemory.From(await cache.GetStatusAsync(cancellation).ConfigureAwait(false));
        var client = cache as RaftCacheClient;
        async Task<Traffic> TrafficAsync(long noopCalls)
        {
            var status = await cache.GetStatusAsync(cancellation).ConfigureAwait(false);
            var (calls, commands) = client?.BatchStatistics ?? default;
            return new Traffic(SiloMessages(status), calls + noopCalls, commands);
        }

        var phases = new List<PhaseResult> { await RunPhaseAsync("no-op ceiling", settings, (_, _) => noop.Ping(), TrafficAsync, noop: true, cancellation).ConfigureAwait(false) };
        foreach (var op in settings.Ops)
        {
            var name = op switch
            {
                "put" => "put",
                "get" => $"get ({settings.Consistency.ToString().ToLowerInvariant()})",
                _ => $"mix ({settings.ReadFraction:P0} get {settings.Consistency.ToString().ToLowerInvariant()})",
            };
            Func<Random, long, Task> operation = op switch
            {
                "put" => (random, _) => cache.PutAsync(keys[random.Next(keys.Length)], value),
                "get" => (random, _) => GetAsync(cache, keys[random.Next(keys.Length)], settings.Consistency),
                _ => (random, _) => random.NextDouble() < settings.ReadFraction
                    ? GetAsync(cache, keys[random.Next(keys.Length)], settings.Consistency)
                    : cache.PutAsync(keys[random.Next(keys.Length)], value),
            };
            phases.Add(await RunPhaseAsync(name, settings, operation, TrafficAsync, noop: false, cancellation).ConfigureAwait(false));
        }

        var memoryAfter = ClusterMemory.From(await cache.GetStatusAsync(cancellation).ConfigureAwait(false));
        var exitCode = BenchTally.ExitCode([.. phases.Select(p => p.Tally)]);
        Report(settings, phases, exitCode, fill is null ? null : new MemoryReport(memoryBefore, memoryFilled, memoryAfter, fill));
        return exitCode;
    }

    /// <summary>Orleans messages sent by the silos so far: each silo's count once, whatever the number of its replicas.</summary>
    private static long SiloMessages(ClusterStatus status) => status.Replicas.GroupBy(r => r.Silo).Sum(g => g.Max(r => r.OrleansMessagesSent));

    /// <summary>
    /// The cost of an idle cluster: the Orleans messages its silos send per second with no load (heartbeats of every
    /// group, coalesced per destination silo), measured over the phase's duration.
    /// </summary>
    private static async Task<int> IdleAsync(IRaftCacheClient cache, BenchSettings settings, CancellationToken cancellation)
    {
        var before = await cache.GetStatusAsync(cancellation).ConfigureAwait(false);
        var watch = Stopwatch.StartNew();
        await Task.Delay(settings.Duration, cancellation).ConfigureAwait(false);
        var after = await cache.GetStatusAsync(cancellation).ConfigureAwait(false);
        var seconds = watch.Elapsed.TotalSeconds;
        // The two status calls themselves are a few messages per silo; they are not taken out.
        var perSecond = (SiloMessages(after) - SiloMessages(before)) / seconds;
        var silos = after.Replicas.Select(r => r.Silo).Distinct().Count();
        var replicas = after.Replicas.Count(r => r.IsReplica);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { idle = new { seconds = Math.Round(seconds, 3), silos, groups = after.Groups.Length, replicas, messagesPerSecond = Math.Round(perSecond, 1) } }, JsonOptions));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"idle: {perSecond:N1} Orleans messages/s sent by {silos} silos hosting {replicas} replicas of {after.Groups.Length} groups, over {seconds:0.0} s with no load."));
        }

        return ExitCodes.Ok;
    }

    /// <summary>Stores every key once, <paramref name="settings"/>' concurrency at a time; errors are retried, so every key ends up stored.</summary>
    private static async Task<FillResult> FillAsync(IRaftCacheClient cache, byte[][] keys, byte[] value, BenchSettings settings, CancellationToken cancellation)
    {
        var watch = Stopwatch.StartNew();
        var next = -1;
        long errors = 0;
        var fill = Task.WhenAll(Enumerable.Range(0, Math.Min(settings.Concurrency, keys.Length)).Select(async _ =>
        {
            await Task.Yield();
            int i;
            while ((i = Interlocked.Increment(ref next)) < keys.Length)
            {
                while (true)
                {
                    cancellation.ThrowIfCancellationRequested();
                    try
                    {
                        await cache.PutAsync(keys[i], value).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (e is CacheUnavailableException or CacheOutcomeUnknownException or CacheOverloadedException or TimeoutException or OrleansException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        }));
        if (!settings.Json && settings.Fill > 0)
        {
            await AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"fill {keys.Length:N0} keys", maxValue: keys.Length);
                    while (!fill.IsCompleted)
                    {
                        await Task.WhenAny(fill, Task.Delay(500)).ConfigureAwait(false);
                        var done = Math.Min(Volatile.Read(ref next), keys.Length);
                        task.Value = done;
                        task.Description = $"fill: {done:N0} of {keys.Length:N0} keys, {done / Math.Max(watch.Elapsed.TotalSeconds, 1e-3):N0} puts/s";
                    }
                }).ConfigureAwait(false);
        }

        await fill.ConfigureAwait(false);
        return new FillResult(keys.Length, watch.Elapsed.TotalSeconds, Interlocked.Read(ref errors));
    }

    /// <summary>A get that reports a miss as <see cref="MissException"/>-free bookkeeping: misses are counted, not errors.</summary>
    private static async Task GetAsync(IRaftCacheClient cache, byte[] key, ReadConsistency consistency)
    {
        if (await cache.GetAsync(key, consistency).ConfigureAwait(false) is null) throw new MissException();
    }

    private sealed class MissException : Exception;

    private sealed class Worker(int seed)
    {
        public readonly LatencyHistogram Latency = new();
        public readonly BenchTally Tally = new();
        public readonly Random Random = new(seed);

        // Read by the progress display while the worker runs; the tally is read only after the phase.
        public long Completed;
        public long Failed;
    }

    // The traffic sampler is given the no-op calls of the measured load (each one call, not counted by the client).
    private static async Task<PhaseResult> RunPhaseAsync(
        string name, BenchSettings settings, Func<Random, long, Task> operation, Func<long, Task<Traffic>> traffic, bool noop, CancellationToken cancellation)
    {
        if (settings.Warmup > TimeSpan.Zero)
            await RunLoadAsync(settings with { Count = null, Duration = settings.Warmup }, operation, name + " warm-up", progress: false, cancellation).ConfigureAwait(false);
        var before = await traffic(0).ConfigureAwait(false);
        var (tally, seconds, latency) = await RunLoadAsync(settings, operation, name, progress: !settings.Json, cancellation).ConfigureAwait(false);
        var after = await traffic(noop ? tally.Attempts : 0).ConfigureAwait(false);
        return new PhaseResult(name, tally, seconds, latency, after - before);
    }

    private static async Task<(BenchTally Tally, double Seconds, LatencyHistogram Latency)> RunLoadAsync(
        BenchSettings settings, Func<Random, long, Task> operation, string name, bool progress, CancellationToken cancellation)
    {
        var workers = Enumerable.Range(0, settings.Concurrency).Select(i => new Worker(1000 + i)).ToArray();
        var remaining = settings.Count ?? long.MaxValue;
        var watch = Stopwatch.StartNew();
        var end = settings.Count is null ? Stopwatch.GetTimestamp() + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var nanosPerTick = 1e9 / Stopwatch.Frequency;

        async Task WorkAsync(Worker worker)
        {
            // Start every worker on the thread pool, not inline on the caller.
            await Task.Yield();
            while (!cancellation.IsCancellationRequested && Stopwatch.GetTimestamp() < end && Interlocked.Decrement(ref remaining) >= 0)
            {
                var started = Stopwatch.GetTimestamp();
                var succeeded = true;
                try
                {
                    await operation(worker.Random, worker.Completed).ConfigureAwait(false);
                    worker.Tally.Success();
                }
                catch (MissException)
                {
                    worker.Tally.Miss();
                }
                catch (Exception e) when (e is RaftCacheException or TimeoutException or OrleansException)
                {
                    worker.Tally.Error(e);
                    succeeded = false;
                    Volatile.Write(ref worker.Failed, worker.Failed + 1);
                }

                // Latency of successful operations only: a failure's latency is that of its error path (an immediate
                // rejection, or a timeout), which says nothing about the operation's.
                if (succeeded) worker.Latency.Record((long)((Stopwatch.GetTimestamp() - started) * nanosPerTick));
                Volatile.Write(ref worker.Completed, worker.Completed + 1);
            }
        }

        var load = Task.WhenAll(workers.Select(WorkAsync));
        if (progress) await ShowProgressAsync(name, settings, load, workers, watch).ConfigureAwait(false);
        await load.ConfigureAwait(false);
        var seconds = watch.Elapsed.TotalSeconds;
        cancellation.ThrowIfCancellationRequested();

        var latency = new LatencyHistogram();
        var tally = new BenchTally();
        foreach (var worker in workers)
        {
            latency.Add(worker.Latency);
            tally.Add(worker.Tally);
        }

        return (tally, seconds, latency);
    }

    private static Task ShowProgressAsync(string name, BenchSettings settings, Task load, Worker[] workers, Stopwatch watch) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(name), maxValue: 1.0);
                while (!load.IsCompleted)
                {
                    await Task.WhenAny(load, Task.Delay(250)).ConfigureAwait(false);
                    var done = workers.Sum(w => Volatile.Read(ref w.Completed));
                    var failed = workers.Sum(w => Volatile.Read(ref w.Failed));
                    var rate = (done - failed) / Math.Max(watch.Elapsed.TotalSeconds, 1e-3);
                    task.Value = settings.Count is { } n ? Math.Min(1.0, (double)done / n) : Math.Min(1.0, watch.Elapsed / settings.Duration);
                    task.Description = Markup.Escape($"{name}: {done - failed:N0} ops, {rate:N0} ops/s" + (failed > 0 ? $", {failed:N0} errors" : ""));
                }

                task.Value = 1.0;
            });

    private static void Report(BenchSettings settings, List<PhaseResult> phases, int exitCode, MemoryReport? memory)
    {
        var ceiling = phases[0];
        double Ratio(PhaseResult phase) => ceiling.OpsPerSecond > 0 ? phase.OpsPerSecond / ceiling.OpsPerSecond : 0;
        if (settings.Json)
        {
            var document = new
            {
                ops = settings.Ops,
                consistency = settings.Consistency.ToString().ToLowerInvariant(),
                concurrency = settings.Concurrency,
                count = settings.Count,
                durationSeconds = settings.Count is null ? settings.Duration.TotalSeconds : (double?)null,
                keys = settings.Keys,
                valueSize = settings.ValueSize,
                readFraction = settings.Ops.Contains("mix") ? settings.ReadFraction : (double?)null,
                ceiling = Describe(ceiling),
                phases = phases.Skip(1).Select(p => new { result = Describe(p), ratioToCeiling = Math.Round(Ratio(p), 4) }).ToArray(),
                memory = memory?.Describe(),
                exitCode,
            };
            Console.WriteLine(JsonSerializer.Serialize(document, JsonOptions));
            return;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("phase", "ops", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "ratio", "msgs/op", "ops/call");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var phase in phases)
        {
            var l = phase.Latency;
            var errors = phase.Tally.Errors.ToString("N0", CultureInfo.InvariantCulture);
            table.AddRow(
                Markup.Escape(phase.Name), phase.Tally.Successes.ToString("N0", CultureInfo.InvariantCulture), phase.OpsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                Ms(l.ValueAt(0.5)), Ms(l.ValueAt(0.9)), Ms(l.ValueAt(0.99)), Ms(l.ValueAt(0.999)), Ms(l.Max),
                phase.Tally.Errors > 0 ? $"[red]{errors}[/]" : errors,
                Ratio(phase).ToString("0.00", CultureInfo.InvariantCulture),
                phase.MessagesPerOperation.ToString("0.00", CultureInfo.InvariantCulture),
                phase.Traffic.CommandsPerCall?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-");
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"concurrency {settings.Concurrency}, {settings.Keys} keys, {settings.ValueSize}-byte values; ops and ops/s count successful operations, latencies are theirs; ratio = ops/s relative to the no-op ceiling; " +
            "msgs/op = Orleans messages sent by the silos and this client per operation; ops/call = operations per batch call of the client.");
        foreach (var phase in phases)
        {
            foreach (var (type, n) in phase.Tally.ErrorsByType)
                Console.WriteLine($"{phase.Name}: {n:N0} x {type} (exit code {phase.Tally.ExitCodeOf(type)})");
            if (phase.Tally.Misses > 0) Console.WriteLine($"{phase.Name}: {phase.Tally.Misses:N0} gets found no value");
        }

        if (memory is not null) Console.WriteLine(memory.Describe().Text);

        if (exitCode != ExitCodes.Ok)
        {
            var failed = phases.Sum(p => p.Tally.Errors);
            var attempted = phases.Sum(p => p.Tally.Attempts);
            Console.Error.WriteLine(exitCode == ExitCodes.BenchErrors
                ? $"raftcache: {failed:N0} of {attempted:N0} operations failed, with errors of several kinds (above); exit code {exitCode}."
                : $"raftcache: {failed:N0} of {attempted:N0} operations failed (above); exit code {exitCode}, as for a single command failing that way.");
        }
    }

    private static object Describe(PhaseResult phase) => new
    {
        name = phase.Name,
        ops = phase.Tally.Successes,
        errors = phase.Tally.Errors,
        errorsByType = phase.Tally.ErrorsByType.ToDictionary(e => e.Key, e => e.Value),
        misses = phase.Tally.Misses,
        seconds = Math.Round(phase.Seconds, 3),
        messagesPerOperation = Math.Round(phase.MessagesPerOperation, 3),
        operationsPerCall = phase.Traffic.CommandsPerCall is { } perCall ? Math.Round(perCall, 2) : (double?)null,
        opsPerSecond = Math.Round(phase.OpsPerSecond, 1),
        latencyMs = new
        {
            p50 = Round(phase.Latency.ValueAt(0.5)),
            p90 = Round(phase.Latency.ValueAt(0.9)),
            p99 = Round(phase.Latency.ValueAt(0.99)),
            p999 = Round(phase.Latency.ValueAt(0.999)),
            max = Round(phase.Latency.Max),
            mean = Round(phase.Latency.Count == 0 ? 0 : phase.Latency.Sum / phase.Latency.Count),
        },
    };

    private static double Round(double nanoseconds) => Math.Round(nanoseconds / 1e6, 3);

    private static string Ms(double nanoseconds) => (nanoseconds / 1e6).ToString("0.000", CultureInfo.InvariantCulture);
}
