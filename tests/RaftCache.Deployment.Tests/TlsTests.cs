using System.Globalization;
using Xunit.Abstractions;

namespace RaftCache.Deployment.Tests;

/// <summary>Three silo processes with TLS between them and from clients, client certificates required, certificates made by the test.</summary>
public sealed class TlsCluster : IAsyncLifetime
{
    private DeploymentCluster? _cluster;

    public TestCertificates Certificates { get; } = TestCertificates.Create("cluster");

    public DeploymentTls Tls { get; private set; } = null!;

    public DeploymentCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        Tls = new DeploymentTls(Certificates, Certificates.Issue("silo"), Certificates.Issue("client"), RequireClientCertificate: true);
        _cluster = await DeploymentCluster.StartAsync(silos: 3, tls: Tls);
        await _cluster.WaitForGroupAsync(_cluster.Silos, voters: 3);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>
/// TLS through Orleans' own support: a cluster whose every connection is TLS works end to end and survives a killed
/// silo; a client or a silo whose certificate the cluster's CA did not sign is turned away, and the CLI says why.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class TlsTests(TlsCluster fixture, ITestOutputHelper output) : IClassFixture<TlsCluster>
{
    private DeploymentCluster Cluster => fixture.Cluster;

    private static readonly IReadOnlyList<string> ShortConnect = ["--connect-timeout", "15s", "--timeout", Deadlines.CliTimeoutArgs[3]];

    [Fact]
    public async Task ATlsCluster_ServesWritesAndReads_AndKeepsWritingAfterASiloIsKilled()
    {
        await RunAsync(async () =>
        {
            await Cluster.Cache.PutAsync("tls-key", "tls-value").WaitAsync(Deadlines.Call);
            Assert.Equal("tls-value", await Cluster.Cache.GetAsync("tls-key").WaitAsync(Deadlines.Call));
            await CliOkAsync("put", "tls-cli", "from-the-cli");
            Assert.Equal("from-the-cli", (await CliOkAsync("get", "tls-cli")).Trim());

            var status = await Cluster.StatusAsync();
            var victim = Cluster.SiloOf(status.Leader!);
            victim.Process.Kill();
            output.WriteLine($"killed {victim.Name}, the leader.");
            var survivors = Cluster.Silos.Where(s => s != victim && !s.Process.HasExited).ToList();

            // Writes go on once a new leader is elected among the survivors, over TLS between them.
            var written = 0;
            await Eventually.WaitAsync(async () =>
            {
                await Cluster.Cache.PutAsync("after-kill-" + written.ToString(CultureInfo.InvariantCulture), "v").WaitAsync(Deadlines.Call);
                return ++written >= 20 ? "done" : null;
            }, Deadlines.Writes, "20 writes after the leader was killed", Cluster.Outputs);
            await Cluster.WaitForGroupAsync(survivors, voters: 2);
            Assert.Equal("from-the-cli", (await CliOkAsync("get", "tls-cli")).Trim());
            Assert.Equal("v", await Cluster.Cache.GetAsync("after-kill-19").WaitAsync(Deadlines.Call));
        });
    }

    [Fact]
    public async Task AClientWithoutATrustedCertificate_CannotConnect_AndTheCliSaysItIsTls()
    {
        await RunAsync(async () =>
        {
            var gateway = $"127.0.0.1:{Cluster.Silos.First(s => !s.Process.HasExited).GatewayPort}";
            string[] where = ["--gateway", gateway, "--cluster-id", Cluster.ClusterId, .. ShortConnect];

            // A CA that did not sign the silos' certificates: the client refuses the gateway.
            using var other = TestCertificates.Create("other");
            var (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. where, "--tls-ca", other.CaPath, "get", "k"], Deadlines.CliRun);
            Assert.True(code == 3, text);
            Assert.Contains("TLS: the gateway's certificate is not trusted", text, StringComparison.Ordinal);
            Assert.Contains("--tls-ca", text, StringComparison.Ordinal);

            // The right CA but no client certificate, which the silos require: the gateway refuses the client.
            (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. where, "--tls-ca", fixture.Certificates.CaPath, "get", "k"], Deadlines.CliRun);
            Assert.True(code == 3, text);
            Assert.Contains("TLS", text, StringComparison.Ordinal);
            Assert.Contains("--tls-certificate", text, StringComparison.Ordinal);

            // A client certificate of another CA: refused too.
            var stranger = other.Issue("stranger");
            (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll,
                [.. where, "--tls-ca", fixture.Certificates.CaPath, "--tls-certificate", stranger, "--tls-password", TestCertificates.Password, "get", "k"], Deadlines.CliRun);
            Assert.True(code == 3, text);
            Assert.Contains("TLS", text, StringComparison.Ordinal);

            // No TLS at all: the gateway closes the connection; the message mentions TLS as a possible cause.
            (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. where, "get", "k"], Deadlines.CliRun);
            Assert.True(code == 3, text);
            Assert.Contains("--tls-ca", text, StringComparison.Ordinal);

            // A wrong password is an invalid option, told before connecting.
            (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll,
                [.. where, "--tls-ca", fixture.Certificates.CaPath, "--tls-certificate", fixture.Tls.ClientPfx, "--tls-password", "wrong", "get", "k"], Deadlines.QuickRun);
            Assert.True(code == 2, text);
            Assert.Contains("--tls-certificate", text, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ASiloWithACertificateOfAnotherCa_CannotJoin()
    {
        await RunAsync(async () =>
        {
            using var other = TestCertificates.Create("rogue");
            var rogue = other.Issue("rogue-silo");
            string[] args = ["--tls-certificate", rogue, "--tls-password", TestCertificates.Password, "--tls-ca", other.CaPath];
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => Cluster.StartSiloAsync(tlsArgs: args));
            output.WriteLine(failure.Message);
            var silo = Cluster.Silos[^1];
            Assert.True(silo.Process.HasExited && silo.Process.ExitCode != 0, $"the rogue silo is {(silo.Process.HasExited ? "exited with " + silo.Process.ExitCode : "running")}.");
            var status = await Cluster.StatusAsync();
            Assert.DoesNotContain(status.Replicas, silo.Hosts);
        });
    }

    private async Task<string> CliOkAsync(params string[] command)
    {
        var (code, text) = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. Cluster.CliConnection, .. fixture.Tls.CliArgs, .. command], Deadlines.CliRun);
        Assert.True(code == 0, text);
        return text;
    }

    private async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}{Environment.NewLine}{Cluster.Outputs()}", e);
        }
    }
}
