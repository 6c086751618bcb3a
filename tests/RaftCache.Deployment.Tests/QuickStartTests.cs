using System.Globalization;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// The README's quick start, as a new user runs it: the development cluster (the silo program with no mode), the
/// sample client program the README shows, and the CLI through <c>client/raftcache</c>. Free ports instead of the
/// defaults, so that a development cluster already running on this machine does not matter.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class QuickStartTests
{
    [Fact]
    public async Task TheDevelopmentClusterStartsQuietlyAndServesTheReadmeSampleAndTheCli()
    {
        var siloPort = FreePorts.NextRange(3);
        var gatewayPort = FreePorts.NextRange(3);
        var viewPort = FreePorts.Next();
        await using var dev = ChildProcess.StartDevCluster(siloPort, gatewayPort, "--view-port", Str(viewPort));
        await dev.WaitReadyAsync(Deadlines.SiloReady);
        var output = dev.Output;
        Assert.Contains("RaftCache development cluster ready: 3 silos", output, StringComparison.Ordinal);
        var warnings = output.Split('\n').Where(l => l.Contains("warn:", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, $"{warnings.Count} warnings in a healthy start:{Environment.NewLine}{output}");
        Assert.Contains($"Try: client/raftcache --gateway 127.0.0.1:{gatewayPort} status", output, StringComparison.Ordinal);
        Assert.Contains($"Live view: http://127.0.0.1:{viewPort}/", output, StringComparison.Ordinal);

        // The README's client program, against the cluster's first gateway.
        var (sampleExit, sampleOutput) = await ChildProcess.RunAsync(BuiltPrograms.SampleDll, [$"--GatewayPort={gatewayPort}"], Deadlines.CliRun);
        Assert.True(sampleExit == 0, sampleOutput);
        Assert.Contains("user:42 = Ada (lease read: Ada, local read: Ada)", sampleOutput, StringComparison.Ordinal);
        Assert.Contains("deleted: True", sampleOutput, StringComparison.Ordinal);
        Assert.Contains("groups: 1, replicas: 3,", sampleOutput, StringComparison.Ordinal);

        // The README's CLI lines.
        var script = Path.Combine(BuiltPrograms.RepositoryRoot, "client", "raftcache");
        string[] gateway = ["--gateway", $"127.0.0.1:{gatewayPort}", .. Deadlines.CliTimeoutArgs];
        var put = await ChildProcess.RunProgramAsync(script, [.. gateway, "put", "greeting", "hello", "--ttl", "5m"], Deadlines.CliRun);
        Assert.True(put.ExitCode == 0, put.Output);
        var get = await ChildProcess.RunProgramAsync(script, [.. gateway, "get", "greeting", "--consistency", "local"], Deadlines.CliRun);
        Assert.True(get.ExitCode == 0, get.Output);
        Assert.Contains("hello", get.Output, StringComparison.Ordinal);
        var status = await ChildProcess.RunProgramAsync(script, [.. gateway, "status"], Deadlines.CliRun);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("Leader:", status.Output, StringComparison.Ordinal);

        await dev.TerminateAsync();
        Assert.Equal(0, await dev.WaitForExitAsync(Deadlines.GracefulStop * 3));
    }

    [Fact]
    public void TheReadmeShowsTheSampleProgramVerbatim()
    {
        var sample = File.ReadAllText(Path.Combine(BuiltPrograms.RepositoryRoot, "client", "RaftCache.Sample", "Program.cs"));
        const string Begin = "// sample:begin\n", End = "// sample:end";
        var start = sample.IndexOf(Begin, StringComparison.Ordinal);
        var end = sample.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "The sample program lost its markers.");
        var code = sample[(start + Begin.Length)..end];
        var readme = File.ReadAllText(Path.Combine(BuiltPrograms.RepositoryRoot, "README.md"));
        Assert.Contains("```csharp\n" + code + "```", readme, StringComparison.Ordinal);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
