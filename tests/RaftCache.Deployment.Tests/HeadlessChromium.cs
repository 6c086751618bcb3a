using System.Diagnostics;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package), run once per page load: <c>--dump-dom</c> gives the DOM after
/// the page's script ran (virtual time lets its polls happen without waiting in real time), <c>--screenshot</c> a PNG.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>Set by .ci/run, which installs Chromium when it is missing: there, a missing browser fails the test.</summary>
    public const string RequireVariable = "RAFTCACHE_REQUIRE_BROWSER";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The browser's path, or null if none is on PATH.</summary>
    public static string? Executable { get; } = Find();

    /// <summary>Whether a missing browser must fail the test rather than leave the page unchecked.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) is "1" or "true";

    /// <summary>Where screenshots go: the repository's TestResults folder, next to the TRX files.</summary>
    public static string ScreenshotDirectory => Path.Combine(BuiltPrograms.RepositoryRoot, "TestResults", "screenshots");

    /// <summary>The page's DOM after its script ran for <paramref name="virtualTimeMilliseconds"/> of virtual time.</summary>
    public static async Task<string> DumpDomAsync(string url, int virtualTimeMilliseconds = 3000) =>
        await RunAsync([$"--virtual-time-budget={virtualTimeMilliseconds}", "--dump-dom", url]);

    /// <summary>Saves a 1280×900 screenshot of <paramref name="url"/> as <paramref name="fileName"/> under <see cref="ScreenshotDirectory"/>.</summary>
    public static async Task<string> ScreenshotAsync(string url, string fileName)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, fileName);
        File.Delete(path);
        await RunAsync(["--virtual-time-budget=3000", "--window-size=1280,900", "--screenshot=" + path, url]);
        Assert.True(File.Exists(path), $"Chromium wrote no screenshot to {path}.");
        return path;
    }

    private static async Task<string> RunAsync(IEnumerable<string> args)
    {
        var executable = Executable ?? throw new InvalidOperationException("Chromium is not installed.");
        // A profile of its own per run, so that runs never share (and lock) one.
        var profile = Directory.CreateTempSubdirectory("raftcache-chromium-");
        try
        {
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // --no-sandbox: the sandbox needs user namespaces, which containers (and root) often lack.
            foreach (var arg in (string[])["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--user-data-dir=" + profile.FullName, .. args])
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(RunTimeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Chromium did not finish within {RunTimeout.TotalSeconds:0} s.");
            }

            var dom = await output;
            Assert.True(process.ExitCode == 0, $"Chromium exited with code {process.ExitCode}:{Environment.NewLine}{await errors}");
            return dom;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static string? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in (string[])["chromium", "chromium-browser", "google-chrome"])
        {
            foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate)) return candidate;
            }
        }

        return null;
    }
}
