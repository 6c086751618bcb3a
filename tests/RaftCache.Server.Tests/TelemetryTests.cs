using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace RaftCache.Server.Tests;

/// <summary>RaftCache's spans and metrics on a real cluster, registered the way an application registers them.</summary>
[Collection(ClusterCollection.Name)]
public class TelemetryTests
{
    private static readonly ActivitySource Test = new("RaftCache.Server.Tests.Telemetry");

    [Fact]
    public async Task APutAndAGetAreEachOneTraceFromTheClientThroughTheFacadeToTheLeadersProposeAndApply()
    {
        var spans = new ExportedItems<Activity>();
        var metrics = new ExportedItems<MetricSnapshot>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Test.Name).AddRaftCacheInstrumentation().AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddRaftCacheInstrumentation().AddInMemoryExporter(metrics).Build();
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));

        ActivityTraceId trace;
        var watch = Stopwatch.StartNew();
        using (var root = Test.StartActivity("put and get"))
        {
            Assert.NotNull(root);
            trace = root.TraceId;
            await cluster.Cache.PutAsync("traced", "value");
            Assert.Equal("value", await cluster.Cache.GetAsync("traced"));
        }

        var elapsed = watch.Elapsed;

        // Every span ends before its reply is sent, so all are exported by now; waiting only guards against a slow export.
        Activity[] traced = [];
        await Eventually.WaitAsync(() =>
        {
            traced = [.. spans.Snapshot().Where(s => s.TraceId == trace)];
            return Task.FromResult(traced.Any(s => s.DisplayName == "raftcache.replica apply") && traced.Any(s => s.DisplayName == "raftcache.facade get"));
        }, TimeSpan.FromSeconds(30), "the put's apply span and the get's façade span");
        var describe = string.Join(Environment.NewLine, traced.Select(s => $"{s.DisplayName} {s.Kind} {s.SpanId} parent {s.ParentSpanId} {s.Status}"));

        Activity ChildOf(Activity parent, string name, ActivityKind kind) =>
            traced.FirstOrDefault(s => s.DisplayName == name && s.ParentSpanId == parent.SpanId && s.Kind == kind)
            ?? throw new Xunit.Sdk.XunitException($"No {kind} span {name} under {parent.DisplayName}:{Environment.NewLine}{describe}");

        var rootSpan = traced.Single(s => s.DisplayName == "put and get");
        var put = ChildOf(rootSpan, "raftcache put", ActivityKind.Client);
        Assert.Equal("put", put.GetTagItem("raftcache.operation"));
        Assert.Equal(0, put.GetTagItem("raftcache.group"));
        var facadePut = ChildOf(put, "raftcache.facade put", ActivityKind.Server);
        // A leader change may end a first proposal unapplied (and the façade retry it): one of them was applied.
        var propose = traced.FirstOrDefault(s => s.DisplayName == "raftcache.replica propose" && s.ParentSpanId == facadePut.SpanId
            && traced.Any(a => a.DisplayName == "raftcache.replica apply" && a.ParentSpanId == s.SpanId))
            ?? throw new Xunit.Sdk.XunitException($"No applied propose span under the façade's put:{Environment.NewLine}{describe}");
        Assert.Equal(ActivityKind.Internal, propose.Kind);
        Assert.Equal(ActivityStatusCode.Unset, propose.Status);
        Assert.Equal("put", propose.GetTagItem("raftcache.operation"));
        Assert.IsType<long>(propose.GetTagItem("raftcache.raft.index"));
        Assert.Equal(ActivityKind.Internal, ChildOf(propose, "raftcache.replica apply", ActivityKind.Internal).Kind);
        // The client's first write registers its session: part of the put, so in the put's trace.
        ChildOf(put, "raftcache.facade register_session", ActivityKind.Server);

        var get = ChildOf(rootSpan, "raftcache get", ActivityKind.Client);
        Assert.Equal("linearizable", get.GetTagItem("raftcache.read.consistency"));
        var facadeGet = ChildOf(get, "raftcache.facade get", ActivityKind.Server);
        Assert.All([put, facadePut, get, facadeGet], s => Assert.Equal(ActivityStatusCode.Unset, s.Status));

        meters.ForceFlush();
        var exported = metrics.Snapshot();
        var duration = exported.Last(m => m.Name == "raftcache.client.operation.duration");
        Assert.Equal("s", duration.Unit);
        // Only this test uses a client in this process while it runs: one put, taking part of the time measured around it.
        var putDuration = duration.MetricPoints.Single(p => Tag(p, "raftcache.operation") as string == "put");
        Assert.Null(Tag(putDuration, "error.type"));
        Assert.Equal(1, putDuration.GetHistogramCount());
        Assert.InRange(putDuration.GetHistogramSum(), double.Epsilon, elapsed.TotalSeconds);
        var operations = exported.Last(m => m.Name == "raftcache.client.operations");
        Assert.Equal(1, operations.MetricPoints.Single(p => Tag(p, "raftcache.operation") as string == "get").GetSumLong());
        var proposals = exported.Last(m => m.Name == "raftcache.proposal.duration");
        Assert.Equal("s", proposals.Unit);
        Assert.True(proposals.MetricPoints.Sum(p => p.GetHistogramSum()) > 0);
    }

    [Fact]
    public void TheOpenTelemetryPackageRegistersTheNamesThatTheClientAndTheSilosUse()
    {
        // RaftCache.OpenTelemetry copies the names rather than reference the contracts (and Orleans with them).
        Assert.Equal(RaftCacheTelemetry.ActivitySourceName, RaftCache.OpenTelemetry.RaftCacheNames.ActivitySourceName);
        Assert.Equal(RaftCacheTelemetry.MeterName, RaftCache.OpenTelemetry.RaftCacheNames.MeterName);
        Assert.Equal(RaftCacheTelemetry.ClientMeterName, RaftCache.OpenTelemetry.RaftCacheNames.ClientMeterName);
        Assert.Equal(RaftCacheTelemetry.MeterName, RaftCacheInstruments.MeterName);
    }

    private static object? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key) return tag.Value;
        }

        return null;
    }
}
