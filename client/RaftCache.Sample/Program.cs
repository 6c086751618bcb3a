// The README's "Client API" example, verbatim between the markers (a test checks that the two agree).
// Run it against the development cluster: dotnet run --project client/RaftCache.Sample
// sample:begin
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RaftCache;
using RaftCache.Client;

var builder = Host.CreateApplicationBuilder(args);
// The development cluster's first gateway and ids (silo/RaftCache.Silo with no arguments).
var gatewayPort = builder.Configuration.GetValue("GatewayPort", 30000);
var connecting = Stopwatch.StartNew();
builder.UseOrleansClient(client => client
    .UseLocalhostClustering(gatewayPort, serviceId: "raftcache", clusterId: "raftcache")
    // Keep trying while the cluster starts, but not forever.
    .UseConnectionRetryFilter(async (error, cancellation) =>
    {
        if (connecting.Elapsed > TimeSpan.FromSeconds(30)) return false;
        await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        return true;
    })
    .AddRaftCacheClient());

using var host = builder.Build();
await host.StartAsync();
var cache = host.Services.GetRequiredService<IRaftCacheClient>();

await cache.PutAsync("user:42", "Ada", ttl: TimeSpan.FromMinutes(5));
string? name = await cache.GetAsync("user:42");                          // linearizable
string? fast = await cache.GetAsync("user:42", ReadConsistency.Lease);   // leader lease
string? near = await cache.GetAsync("user:42", ReadConsistency.Local);   // the nearest replica, may be stale
Console.WriteLine($"user:42 = {name} (lease read: {fast}, local read: {near})");

bool existed = await cache.DeleteAsync("user:42");
Console.WriteLine($"deleted: {existed}");

ClusterStatus status = await cache.GetStatusAsync();                     // every group's replicas: role, term, commit, applied
Console.WriteLine($"groups: {status.Groups.Length}, replicas: {status.Replicas.Count(r => r.IsReplica)}, group 0 led by {status.LeaderOf(0)?.Silo}");

await host.StopAsync();
// sample:end
