using System.Text;

namespace RaftCache.Deployment.Tests;

/// <summary>One silo process with Redis clustering, started once for the CLI tests of this class.</summary>
public sealed class SingleSiloCluster : IAsyncLifetime
{
    private DeploymentCluster? _cluster;

    public DeploymentCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        _cluster = await DeploymentCluster.StartAsync(silos: 1);
        // A group of one voter: the CLI's commands then have a leader to go to.
        await _cluster.WaitForGroupAsync(_cluster.Silos, voters: 1);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

/// <summary>The CLI as a user runs it, against a running cluster: values from files and standard input, the
/// messages for a wrong cluster id, bench's exit code, and the client/raftcache script.</summary>
[Collection(ProcessCollection.Name)]
public sealed class CliTests(SingleSiloCluster fixture) : IClassFixture<SingleSiloCluster>
{
    private DeploymentCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Put_WithAValueFile_StoresItsBytes_AndGetReturnsThem()
    {
        // Larger than a command line takes in one argument on many systems (128 KiB on Linux), below the 512 KiB limit.
        // Long lines, so that the output the test keeps (its last 300 lines) holds the whole value.
        var value = string.Concat(Enumerable.Range(0, 250).Select(i => $"line {i:D3} " + new string((char)('a' + (i % 26)), 1_200) + "\n"));
        Assert.True(value.Length > 300_000);
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, value);
            await RunOkAsync("put", "from-file", "--value-file", path);
            var (_, output) = await RunOkAsync("get", "from-file");
            // get prints the value and a line break: the value's lines, then the empty line after its final line break.
            Assert.Equal(value.Split('\n'), output.Split(Environment.NewLine));
            Assert.Equal(Encoding.UTF8.GetBytes(value), await Cluster.Cache.GetAsync(Encoding.UTF8.GetBytes("from-file")));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Put_WithADashValue_ReadsStandardInput_AndGetReturnsIt()
    {
        var value = "from standard input, with a tab\tand no final line break";
        await RunOkAsync(Encoding.UTF8.GetBytes(value), "put", "from-stdin", "-");
        var (_, output) = await RunOkAsync("get", "from-stdin");
        Assert.Equal(value, output);
        Assert.Equal(Encoding.UTF8.GetBytes(value), await Cluster.Cache.GetAsync(Encoding.UTF8.GetBytes("from-stdin")));
    }

    [Fact]
    public async Task Incr_AddsAtomically_AndAValueThatIsNotAnIntegerHasItsOwnExitCode()
    {
        Assert.Equal("1", (await RunOkAsync("incr", "cli-counter")).Output);
        Assert.Equal("-4", (await RunOkAsync("incr", "cli-counter", "--by", "-5")).Output);
        await RunOkAsync("put", "cli-word", "seven");
        var (code, output) = await RunAsync([.. Cluster.CliConnection, "incr", "cli-word"]);
        Assert.Equal(12, code);
        Assert.Contains("not a decimal 64-bit integer", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_FromStandardInput_StoresRawBytes()
    {
        byte[] value = [0, 1, 2, 0xc3, 0x28, 0xff, 10, 13];
        await RunOkAsync(value, "put", "binary", "-");
        Assert.Equal(value, await Cluster.Cache.GetAsync(Encoding.UTF8.GetBytes("binary")));
    }

    [Fact]
    public async Task WrongClusterId_ThroughAGateway_SaysTheGatewayServesAnotherCluster()
    {
        var gateway = $"127.0.0.1:{Cluster.Silos[0].GatewayPort}";
        // Not a tight deadline: on a loaded machine the gateway's closing of the handshake can take seconds to be seen,
        // and until then the CLI can only say that no Orleans connection was established.
        var (code, output) = await RunAsync(["--gateway", gateway, "--cluster-id", "wrong", "--connect-timeout", "10s", "status"]);
        Assert.True(code == 3, output);
        Assert.Contains($"The gateway at {gateway} accepted a TCP connection but closed it during the Orleans handshake: it does not serve cluster 'wrong'", output, StringComparison.Ordinal);
        Assert.Contains("Check --cluster-id", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongClusterId_ThroughRedis_SaysTheTableHasNoSuchClusterAndNamesTheOneItHas()
    {
        var (code, output) = await RunAsync(["--redis", Cluster.RedisConnection, "--cluster-id", "wrong", "--connect-timeout", "3s", "status"]);
        Assert.True(code == 3, output);
        Assert.Contains($"The membership table at redis {Cluster.RedisConnection} lists no active gateway for cluster 'wrong' (service 'raftcache'): it has no silo of that cluster.", output, StringComparison.Ordinal);
        Assert.Contains($"Clusters with active silos there: '{Cluster.ClusterId}' (1 silo).", output, StringComparison.Ordinal);
        Assert.DoesNotContain("canceled", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Bench_WhoseEveryPutIsRejectedForItsSize_ExitsWith4AndReportsNoThroughput()
    {
        // 600,000 bytes is over the 512 KiB value limit: every put fails with CacheArgumentException.
        var (code, output) = await RunAsync([.. Cluster.CliConnection, "bench", "--op", "put", "--value-size", "600000", "--count", "5", "--concurrency", "1", "--warmup", "0s", "--json"]);
        Assert.True(code == 4, output);
        Assert.Contains("\"CacheArgumentException\": 5", output, StringComparison.Ordinal);
        Assert.Contains("\"exitCode\": 4", output, StringComparison.Ordinal);
        var result = output[output.IndexOf("\"result\"", StringComparison.Ordinal)..];
        Assert.Contains("\"ops\": 0,", result, StringComparison.Ordinal);
        Assert.Contains("\"opsPerSecond\": 0,", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheClientScript_IsExecutable_AndRunsTheClient()
    {
        var script = Path.Combine(BuiltPrograms.RepositoryRoot, "client", "raftcache");
        // Committed with the executable bit (git update-index --chmod=+x), so that a checkout can run it directly.
        if (!OperatingSystem.IsWindows()) Assert.True((File.GetUnixFileMode(script) & UnixFileMode.UserExecute) != 0, $"{script} is not executable");

        var help = await ChildProcess.RunProgramAsync(script, ["--help"], Deadlines.CliRun + Deadlines.SiloReady);
        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("Exit codes:", help.Output, StringComparison.Ordinal);

        var status = await ChildProcess.RunProgramAsync(script, [.. Cluster.CliConnection, "status"], Deadlines.CliRun);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains($":{Cluster.Silos[0].SiloPort}:", status.Output, StringComparison.Ordinal);
        Assert.Contains("Leader", status.Output, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Output)> RunOkAsync(params string[] args) => RunOkAsync(null, args);

    private async Task<(int ExitCode, string Output)> RunOkAsync(byte[]? standardInput, params string[] args)
    {
        var result = await RunAsync([.. Cluster.CliConnection, .. args], standardInput);
        Assert.True(result.ExitCode == 0, $"raftcache {string.Join(' ', args)} exited with {result.ExitCode}:{Environment.NewLine}{result.Output}");
        return result;
    }

    private static Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args, byte[]? standardInput = null) =>
        ChildProcess.RunAsync(BuiltPrograms.CliDll, args, Deadlines.CliRun, standardInput);
}
