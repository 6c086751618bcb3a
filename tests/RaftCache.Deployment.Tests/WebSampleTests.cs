using System.Globalization;
using System.Net;
using System.Net.Http.Json;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// The README's ASP.NET Core sample, run as a user would: two instances of the web application against one development
/// cluster share cached values through HybridCache over RaftCache, count atomically, report health and trace.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class WebSampleTests
{
    private sealed record Product(int Id, string Name, DateTimeOffset LoadedAt);

    private sealed record PageVisits(string Page, long Visits);

    [Fact]
    public async Task TwoInstancesShareCachedValuesCountAtomicallyReportHealthAndTrace()
    {
        var siloPort = FreePorts.NextRange(3);
        var gatewayPort = FreePorts.NextRange(3);
        await using var dev = ChildProcess.StartDevCluster(siloPort, gatewayPort, "--no-view");
        await dev.WaitReadyAsync(Deadlines.SiloReady);

        var (a, urlA) = StartWeb("web A", gatewayPort);
        var (b, urlB) = StartWeb("web B", gatewayPort);
        await using (a)
        await using (b)
        {
            await a.WaitReadyAsync(Deadlines.SiloReady);
            await b.WaitReadyAsync(Deadlines.SiloReady);
            using var http = new HttpClient { Timeout = Deadlines.CliRun };

            // A computes the product once; its second request is served from the cache.
            var first = await http.GetFromJsonAsync<Product>($"{urlA}/products/7");
            Assert.Equal(first, await http.GetFromJsonAsync<Product>($"{urlA}/products/7"));

            // B gets A's value through RaftCache (HybridCache writes L2 just after answering A, so wait for it).
            await Eventually(async () => await http.GetFromJsonAsync<Product>($"{urlB}/products/7") == first, "B to read A's cached product");

            // A removes it: A recomputes (B keeps its own in-memory copy up to LocalCacheExpiration, as documented).
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"{urlA}/products/7")).StatusCode);
            var reloaded = await http.GetFromJsonAsync<Product>($"{urlA}/products/7");
            Assert.True(reloaded!.LoadedAt > first!.LoadedAt, $"{reloaded} was not recomputed after {first}");

            // Atomic counting from both instances.
            Assert.Equal(1, (await PostVisit(http, urlA)).Visits);
            Assert.Equal(2, (await PostVisit(http, urlB)).Visits);

            Assert.Equal("Healthy", await http.GetStringAsync($"{urlA}/health"));

            // The console exporter prints the client spans of the calls above.
            Assert.Contains("raftcache get", a.Output, StringComparison.Ordinal);
            Assert.Contains("raftcache increment", a.Output, StringComparison.Ordinal);
        }

        await dev.TerminateAsync();
        Assert.Equal(0, await dev.WaitForExitAsync(Deadlines.GracefulStop * 3));
    }

    [Fact]
    public void TheReadmeShowsTheWebSampleVerbatim()
    {
        var sample = File.ReadAllText(Path.Combine(BuiltPrograms.RepositoryRoot, "client", "RaftCache.WebSample", "Program.cs"));
        const string Begin = "// web-sample:begin\n", End = "// web-sample:end";
        var start = sample.IndexOf(Begin, StringComparison.Ordinal);
        var end = sample.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "The web sample lost its markers.");
        var code = sample[(start + Begin.Length)..end];
        var readme = File.ReadAllText(Path.Combine(BuiltPrograms.RepositoryRoot, "README.md"));
        Assert.Contains("```csharp\n" + code + "```", readme, StringComparison.Ordinal);
    }

    private static (ChildProcess Process, string Url) StartWeb(string name, int gatewayPort)
    {
        var url = $"http://127.0.0.1:{Str(FreePorts.NextRange(1))}";
        return (ChildProcess.Start(name, BuiltPrograms.WebSampleDll, [$"--GatewayPort={Str(gatewayPort)}", "--urls", url], readyLine: "Now listening on"), url);
    }

    private static async Task<PageVisits> PostVisit(HttpClient http, string url)
    {
        using var response = await http.PostAsync($"{url}/visits/home", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<PageVisits>())!;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (deadline.IsCancellationRequested) throw new TimeoutException($"Waited 30 s for {what}.");
            await Task.Delay(100);
        }
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
