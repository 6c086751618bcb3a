using System.Globalization;

namespace RaftCache.Deployment.Tests;

/// <summary>User mistakes get a clear message and a documented exit code from both programs, never a stack trace.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ProgramTests
{
    // These programs stop by themselves without a cluster: invalid options, or a CLI whose connect timeout is short.
    private static readonly TimeSpan Timeout = Deadlines.QuickRun;

    [Fact]
    public async Task Silo_WithRedisClusteringButNoConnection_ExitsWith2()
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.SiloDll, ["--mode", "silo", "--clustering", "redis", "--silo-port", "abc"], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("--redis CONNECTION is required", output, StringComparison.Ordinal);
        Assert.Contains("Silo:SiloPort", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithUnknownSwitch_ExitsWith2()
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.SiloDll, ["--silo-prot", "1234"], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("Unknown option '--silo-prot'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithInvalidRaftCacheOptions_ExitsWith2AtStartUp()
    {
        // Valid host options, so the host starts and the RaftCache options validator runs at start-up.
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.SiloDll,
            ["--mode", "silo", "--silo-port", Port(), "--gateway-port", Port(), "--RaftCache:ElectionTicks=2", "--RaftCache:HeartbeatTicks=3"], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("RaftCache:ElectionTicks (2) must be greater than HeartbeatTicks (3)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithSeveralInvalidCacheSettings_ReportsEveryOneByItsPathAndExitsWith2()
    {
        // Two values out of range and one that does not convert: the conversion error used to hide the others, and
        // the range errors came one at a time as raw ArgumentOutOfRangeException text.
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.SiloDll,
        [
            "--mode", "silo", "--silo-port", Port(), "--gateway-port", Port(),
            "--RaftCache:Cache:MaxKeyBytes=0", "--RaftCache:Cache:MaxEntries=0", "--RaftCache:Cache:MaxTtl=forever",
        ], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("RaftCache:Cache:MaxKeyBytes must be between 1 and 67108864 (is 0).", output, StringComparison.Ordinal);
        Assert.Contains("RaftCache:Cache:MaxEntries must be at least 1 (is 0).", output, StringComparison.Ordinal);
        Assert.Contains("RaftCache:Cache:MaxTtl must be a duration", output, StringComparison.Ordinal);
        Assert.Contains("(is 'forever')", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ArgumentOutOfRange", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithAMisspeltSetting_NamesItAndExitsWith2()
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.SiloDll,
            ["--mode", "silo", "--silo-port", Port(), "--gateway-port", Port(), "--RaftCache:Cache:MaxKeyByts=10"], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("RaftCache:Cache:MaxKeyByts is not a setting", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_WhenNoGatewayAnswers_ExitsWith3AndNamesTheGatewaysTheClusterIdAndHowToStartACluster()
    {
        var port = Port();
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, ["--gateway", $"127.0.0.1:{port}", "--connect-timeout", "1s", "status"], Timeout);
        Assert.True(code == 3, output);
        Assert.Contains($"No gateway at 127.0.0.1:{port} accepted a connection for cluster 'raftcache' within 1 s: connection refused (nothing listens there).", output, StringComparison.Ordinal);
        Assert.Contains("dotnet run -c Release --project silo/RaftCache.Silo", output, StringComparison.Ordinal);
        Assert.Contains("--cluster-id", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_WhenNothingListensAtTheRedisAddress_ExitsWith3AndSaysTheMembershipStoreIsUnreachable()
    {
        // Shorter than the Redis client's own 5 s connect timeout: Orleans then reports only "A task was canceled.".
        var port = Port();
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, ["--redis", $"127.0.0.1:{port}", "--connect-timeout", "2s", "status"], Timeout);
        Assert.True(code == 3, output);
        Assert.Contains($"Could not reach the membership store at redis 127.0.0.1:{port} within 2 s: connection refused (nothing listens there)", output, StringComparison.Ordinal);
        Assert.Contains("--redis", output, StringComparison.Ordinal);
        Assert.DoesNotContain("canceled", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Cli_PutWithAMissingValueFile_ExitsWith2AndNamesThePath()
    {
        // Read before connecting: no cluster is needed to find out.
        var path = Path.Combine(Path.GetTempPath(), "raftcache-missing-" + Guid.NewGuid().ToString("N"));
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, ["put", "k", "--value-file", path], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains($"cannot read the value file '{path}'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9999999999d", "'9999999999d' is out of range: the longest duration is 10675199.02:48:05.4775807")]
    [InlineData("-5s", "'-5s' must be positive")]
    [InlineData("soon", "'soon' is not a duration")]
    public async Task Cli_PutWithABadTtl_SaysWhatIsWrongWithIt(string ttl, string message)
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, ["put", "k", "v", "--ttl", ttl], Timeout);
        Assert.True(code == 2, output);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("put", "k")]
    [InlineData("put", "k", "v", "--value-file", "value.bin")]
    [InlineData("put", "k", "-", "--value-file", "value.bin")]
    [InlineData("get", "k", "--consistency", "eventual")]
    [InlineData("put", "k", "v", "--ttl", "soon")]
    [InlineData("bench", "--op", "scan")]
    [InlineData("bench", "--count", "10", "--duration", "1s")]
    [InlineData("status", "--gateway", "127.0.0.1:notaport")]
    [InlineData("frobnicate")]
    public async Task Cli_WithBadArguments_ExitsWith2(params string[] args)
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, args, Timeout);
        Assert.True(code == 2, output);
        Assert.Contains("--help", output, StringComparison.Ordinal);
    }

    private static string Port() => Port(FreePorts.Next());

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
