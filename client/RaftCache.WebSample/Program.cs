// The README's ASP.NET Core example, verbatim between the markers (a test checks that the two agree and runs it
// against a cluster). Run it against the development cluster: dotnet run --project client/RaftCache.WebSample
// web-sample:begin
using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using OpenTelemetry.Trace;
using RaftCache.Client;

var builder = WebApplication.CreateBuilder(args);
var gatewayPort = builder.Configuration.GetValue("GatewayPort", 30000);   // the development cluster's first gateway
var connecting = Stopwatch.StartNew();
builder.UseOrleansClient(client => client
    .UseLocalhostClustering(gatewayPort, serviceId: "raftcache", clusterId: "raftcache")
    .UseConnectionRetryFilter(async (error, cancellation) =>
    {
        if (connecting.Elapsed > TimeSpan.FromSeconds(30)) return false;
        await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        return true;
    })
    .AddRaftCacheClient());

// RaftCache as IDistributedCache, and so as HybridCache's shared second level.
builder.Services.AddRaftCacheDistributedCache(options => options.InstanceName = "web:");
builder.Services.AddHybridCache(options => options.DefaultEntryOptions = new HybridCacheEntryOptions
{
    Expiration = TimeSpan.FromMinutes(5),
    LocalCacheExpiration = TimeSpan.FromSeconds(30),
});
builder.Services.AddHealthChecks().AddRaftCacheClientHealthCheck();
builder.Services.AddOpenTelemetry()
    // RaftCache's client spans become children of each request's span.
    .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddRaftCacheInstrumentation().AddConsoleExporter());

var app = builder.Build();

// A slow lookup, cached: every instance of this app shares the result through RaftCache.
app.MapGet("/products/{id:int}", async (int id, HybridCache cache, CancellationToken cancellation) =>
    await cache.GetOrCreateAsync($"product:{id}", async token =>
    {
        await Task.Delay(200, token);                                     // stands for a database query
        return new Product(id, $"Product {id}", DateTimeOffset.UtcNow);
    }, cancellationToken: cancellation));

app.MapDelete("/products/{id:int}", async (int id, HybridCache cache, CancellationToken cancellation) =>
{
    await cache.RemoveAsync($"product:{id}", cancellation);
    return Results.NoContent();
});

// An atomic counter, straight through the RaftCache client.
app.MapPost("/visits/{page}", async (string page, IRaftCacheClient raftCache, CancellationToken cancellation) =>
    new { page, visits = await raftCache.IncrementAsync($"visits:{page}", cancellationToken: cancellation) });

app.MapHealthChecks("/health");
app.Run();

internal sealed record Product(int Id, string Name, DateTimeOffset LoadedAt);
// web-sample:end
