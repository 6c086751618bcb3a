using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// The live view (<c>/</c> and <c>/api/status</c> of the silo program): its JSON read with HttpClient, its page
/// rendered by headless Chromium and read from the DOM after the page's script ran. Screenshots are saved under
/// TestResults/screenshots at the repository root. Without Chromium (a machine that did not install it; .ci/run
/// does) only the JSON is checked, unless RAFTCACHE_REQUIRE_BROWSER=1.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class LiveViewTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheDevelopmentClusterServesTheLiveViewAndPrintsItsUrl()
    {
        var siloPort = FreePorts.NextRange(3);
        var gatewayPort = FreePorts.NextRange(3);
        var viewPort = FreePorts.Next();
        await using var dev = ChildProcess.StartDevCluster(siloPort, gatewayPort, "--view-port", Str(viewPort));
        await dev.WaitReadyAsync(Deadlines.SiloReady);
        var url = $"http://127.0.0.1:{viewPort}/";
        Assert.Contains($"Live view: {url} (JSON: {url}api/status)", dev.Output, StringComparison.Ordinal);

        using var http = new HttpClient { Timeout = Deadlines.Call };
        var page = await http.GetStringAsync(url);
        Assert.Contains("RaftCache live view", page, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(await http.GetStringAsync(url + "api/status")))
        {
            var group = Assert.Single(json.RootElement.GetProperty("groups").EnumerateArray());
            Assert.StartsWith("S127.0.0.1:", group.GetProperty("leader").GetString(), StringComparison.Ordinal);
            var replicas = group.GetProperty("replicas").EnumerateArray().ToList();
            Assert.Equal(3, replicas.Count);
            Assert.All(replicas, r => Assert.True(r.GetProperty("healthy").GetBoolean() && r.GetProperty("reachable").GetBoolean(), r.ToString()));
            Assert.Single(replicas, r => r.GetProperty("role").GetString() == "Leader");
            Assert.Equal(3, json.RootElement.GetProperty("silos").GetArrayLength());
        }

        if (BrowserAvailable())
        {
            var rows = await Eventually.WaitAsync(async () =>
            {
                var found = ReplicaRows(await HeadlessChromium.DumpDomAsync(url));
                return found.Count == 3 && found.All(r => r.Health == "healthy") && found.Count(r => r.Role == "Leader") == 1 ? found : null;
            }, Deadlines.GroupChange, "the page to show 3 healthy replicas, one of them the leader");
            Assert.All(rows, r => Assert.Equal(0, r.Group));
            output.WriteLine("Screenshot: " + await HeadlessChromium.ScreenshotAsync(url, "live-view-dev-cluster.png"));
        }

        await dev.TerminateAsync();
        Assert.Equal(0, await dev.WaitForExitAsync(Deadlines.GracefulStop * 3));
    }

    [Fact]
    public async Task TheLiveViewOfADeploymentShowsAKilledSilosReplicaGoneOrUnreachable()
    {
        // Deployment mode, one silo per process, so that one silo can be killed; the view is on in the first silo only.
        var viewPort = FreePorts.Next();
        await using var cluster = await DeploymentCluster.StartAsync(3, firstSiloArgs: ["--view-port", Str(viewPort)]);
        var silos = cluster.Silos.ToList();
        await cluster.WaitForGroupAsync(silos, voters: 3);
        var url = $"http://127.0.0.1:{viewPort}/";
        Assert.Contains($"Live view: {url}", silos[0].Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Live view:", silos[1].Process.Output, StringComparison.Ordinal);

        using var http = new HttpClient { Timeout = Deadlines.Call };
        await Eventually.WaitAsync(async () =>
        {
            var replicas = await JsonReplicasAsync(http, url);
            return replicas.Count == 3 && replicas.All(r => r.Healthy) && replicas.Count(r => r.Role == "Leader") == 1 ? replicas : null;
        }, Deadlines.GroupChange, "/api/status to list 3 healthy replicas, one of them the leader");

        var browser = BrowserAvailable();
        if (browser)
        {
            await Eventually.WaitAsync(async () =>
            {
                var rows = ReplicaRows(await HeadlessChromium.DumpDomAsync(url));
                return rows.Count == 3 && rows.All(r => r.Health == "healthy") && rows.Count(r => r.Role == "Leader") == 1 ? rows : null;
            }, Deadlines.GroupChange, "the page to show 3 healthy replicas, one of them the leader");
        }

        // Kill a silo that does not serve the view: its replica must leave the page's healthy rows, and a leader remain.
        var victim = silos[2];
        victim.Process.Kill();
        var port = $":{victim.SiloPort}:";
        await Eventually.WaitAsync(async () =>
        {
            var replicas = await JsonReplicasAsync(http, url);
            return !replicas.Any(r => r.Silo.Contains(port, StringComparison.Ordinal) && r.Healthy) && replicas.Any(r => r.Role == "Leader") ? replicas : null;
        }, Deadlines.GroupChange, $"/api/status to show no healthy replica on the killed silo {victim.Name}");

        if (browser)
        {
            string? last = null;
            var rows = await Eventually.WaitAsync(async () =>
            {
                var found = ReplicaRows(last = await HeadlessChromium.DumpDomAsync(url));
                return found.Count > 0 && !found.Any(r => r.Silo.Contains(port, StringComparison.Ordinal) && r.Health == "healthy")
                    && found.Any(r => r.Role == "Leader" && r.Health == "healthy") ? found : null;
            }, Deadlines.GroupChange, $"the page to show the killed silo {victim.Name}'s replica gone or not healthy, and a leader", () => last ?? "no page");
            output.WriteLine(string.Join(Environment.NewLine, rows.Select(r => $"{r.Silo} {r.Role} {r.Health}")));
            output.WriteLine("Screenshot: " + await HeadlessChromium.ScreenshotAsync(url, "live-view-after-kill.png"));
        }
    }

    private bool BrowserAvailable()
    {
        if (HeadlessChromium.Executable is not null) return true;
        Assert.False(HeadlessChromium.Required, $"Chromium is not installed, and {HeadlessChromium.RequireVariable} asks for it: apt-get install chromium.");
        output.WriteLine("Chromium is not installed: the page itself was not rendered, only /api/status was checked (apt-get install chromium).");
        return false;
    }

    private static async Task<List<Row>> JsonReplicasAsync(HttpClient http, string url)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(url + "api/status"));
        return [.. json.RootElement.GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("replicas").EnumerateArray())
            .Select(r => new Row(r.GetProperty("group").GetInt32(), r.GetProperty("silo").GetString()!, r.GetProperty("role").GetString()!,
                r.GetProperty("healthy").GetBoolean() && r.GetProperty("reachable").GetBoolean() ? "healthy" : "not healthy"))];
    }

    /// <summary>The replica rows of the rendered page, from their data attributes.</summary>
    private static List<Row> ReplicaRows(string dom) =>
        [.. ReplicaRow().Matches(dom).Select(m => new Row(int.Parse(m.Groups["group"].Value, CultureInfo.InvariantCulture), m.Groups["silo"].Value, m.Groups["role"].Value, m.Groups["health"].Value))];

    [GeneratedRegex("""<tr class="replica[^"]*" data-group="(?<group>\d+)" data-silo="(?<silo>[^"]*)" data-role="(?<role>[^"]*)" data-health="(?<health>[^"]*)">""")]
    private static partial Regex ReplicaRow();

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record Row(int Group, string Silo, string Role, string Health)
    {
        public bool Healthy => Health == "healthy";
    }
}
