using System.Globalization;

namespace RaftCache.Deployment.Tests;

/// <summary>User mistakes get a clear message and a documented exit code from both programs, never a stack trace.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ProgramTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

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
    public async Task Cli_WhenNoGatewayAnswers_ExitsWith3AndSaysHowToStartACluster()
    {
        var (code, output) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, ["--gateway", $"127.0.0.1:{Port()}", "--connect-timeout", "1s", "status"], Timeout);
        Assert.True(code == 3, output);
        Assert.Contains("dotnet run --project silo/RaftCache.Silo", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("put", "k")]
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

    private static string Port() => FreePorts.Next().ToString(CultureInfo.InvariantCulture);
}
