using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RaftCache.Testing;

namespace RaftCache.Client.Tests;

/// <summary>The client's span and metrics of an operation that fails with a typed error, and the context its request carries.</summary>
public sealed class TelemetryTests
{
    private static readonly ActivitySource Test = new("RaftCache.Client.Tests.Telemetry");
    private readonly ScriptedFacade _facade = new();

    [Fact]
    public async Task AReadTheClusterAnswersOverloadedEndsItsSpanInErrorAndCountsAnErrorOfThatType()
    {
        var spans = new ExportedItems<Activity>();
        var metrics = new ExportedItems<MetricSnapshot>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Test.Name).AddRaftCacheInstrumentation().AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddRaftCacheInstrumentation().AddInMemoryExporter(metrics).Build();
        var received = new List<CacheRequest>();
        _facade.Read = request =>
        {
            lock (received) received.Add(request);
            return Task.FromResult(CacheReply.Fail(CacheStatusCode.Overloaded, "Too many reads are waiting."));
        };
        using var client = new RaftCacheClient(new ScriptedGrainFactory(_facade));

        ActivityTraceId trace;
        using (var root = Test.StartActivity("read"))
        {
            Assert.NotNull(root);
            trace = root.TraceId;
            await Assert.ThrowsAsync<CacheOverloadedException>(() => client.GetAsync("k", ReadConsistency.Lease));
        }

        // Spans of other tests' clients may be exported too while this one listens: only this trace counts.
        var span = Assert.Single(spans.Snapshot(), s => s.TraceId == trace && s.DisplayName == "raftcache get");
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("Too many reads are waiting.", span.StatusDescription);
        Assert.Equal(typeof(CacheOverloadedException).FullName, span.GetTagItem("error.type"));
        Assert.Equal("lease", span.GetTagItem("raftcache.read.consistency"));
        // The request carried the span to the façade, which makes its own span a child of it.
        Assert.Equal(span.Id, Assert.Single(received).TraceParent);

        meters.ForceFlush();
        var errors = metrics.Snapshot().Last(m => m.Name == "raftcache.client.operation.errors");
        Assert.Contains(errors.MetricPoints, p =>
            Tag(p, "raftcache.operation") as string == "get" && Tag(p, "error.type") as string == typeof(CacheOverloadedException).FullName && p.GetSumLong() >= 1);
        var duration = metrics.Snapshot().Last(m => m.Name == "raftcache.client.operation.duration");
        Assert.Equal("s", duration.Unit);
        Assert.Contains(duration.MetricPoints, p => Tag(p, "error.type") as string == typeof(CacheOverloadedException).FullName && p.GetHistogramSum() > 0);
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
