using System.Globalization;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Every deadline of these tests, in one place. None of them measures speed: a deadline only bounds how long a test
/// waits for something that should happen anyway, so each is generous, a multiple of the operation's own timeout
/// where it has one, and a machine loaded by other builds and tests (two cores shared by the test, several silo
/// processes and the CLI) makes a test slower, not red. What the tests do measure (that writes go on after a kill,
/// that every acknowledged write reads back) does not depend on these values.
/// </summary>
public static class Deadlines
{
    /// <summary>The silos' own request deadline (<c>RaftCache:RequestTimeout</c>), passed to every silo started.</summary>
    public static readonly TimeSpan SiloRequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The test client's deadline for one call (its Orleans response timeout and the write load's per-call deadline):
    /// twice the silos' request timeout, so that a call the façade still retries is not abandoned first. A call
    /// stranded on a killed silo ends after this and counts as not acknowledged.
    /// </summary>
    public static readonly TimeSpan ClientCall = 2 * SiloRequestTimeout;

    /// <summary>A status call or read the test waits on outside the write load.</summary>
    public static readonly TimeSpan Call = 3 * ClientCall;

    /// <summary>The CLI's connect timeout (<c>--connect-timeout</c>) in every run against a cluster: three times its 10 s default.</summary>
    public static readonly TimeSpan CliConnect = TimeSpan.FromSeconds(30);

    /// <summary>The CLI's request timeout (<c>--timeout</c>) in every run against a cluster: three times its 10 s default.</summary>
    public static readonly TimeSpan CliRequest = TimeSpan.FromSeconds(30);

    /// <summary>How long one CLI run may take: its connect and request timeouts plus a minute to start and stop the process.</summary>
    public static readonly TimeSpan CliRun = CliConnect + CliRequest + TimeSpan.FromMinutes(1);

    /// <summary>A program that stops by itself without a cluster (invalid options, a connect timeout of a few seconds).</summary>
    public static readonly TimeSpan QuickRun = TimeSpan.FromMinutes(1);

    /// <summary>A silo process, or the development cluster, until it prints its ready line.</summary>
    public static readonly TimeSpan SiloReady = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A change of the Raft group to show: formation, a dead member removed after failure detection (tuned to a few
    /// seconds), a replacement promoted.
    /// </summary>
    public static readonly TimeSpan GroupChange = TimeSpan.FromSeconds(90);

    /// <summary>A number of writes of the write load to be acknowledged, including a failover in between.</summary>
    public static readonly TimeSpan Writes = TimeSpan.FromSeconds(90);

    /// <summary>A graceful stop (SIGTERM): three times the silos' shutdown timeout (10 s by default).</summary>
    public static readonly TimeSpan GracefulStop = TimeSpan.FromSeconds(30);

    /// <summary>A killed process to be reaped, or the test's own client to stop.</summary>
    public static readonly TimeSpan Reap = TimeSpan.FromSeconds(30);

    /// <summary>The CLI's timeout options, from <see cref="CliConnect"/> and <see cref="CliRequest"/>.</summary>
    public static IReadOnlyList<string> CliTimeoutArgs { get; } =
        ["--connect-timeout", Seconds(CliConnect), "--timeout", Seconds(CliRequest)];

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
}
