using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Garnet;

namespace RaftCache.Deployment.Tests;

/// <summary>Free loopback ports, found by letting the OS choose.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports (the development cluster uses port + i).</summary>
    public static int NextRange(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = Next();
            if (first + count - 1 > 65535) continue;
            var listeners = new List<TcpListener>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listeners.Add(listener);
                    listener.Start();
                }

                return first;
            }
            catch (SocketException)
            {
                // One of them is taken: try another range.
            }
            finally
            {
                foreach (var listener in listeners) listener.Dispose();
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free loopback ports found.");
    }
}

/// <summary>The built programs of this repository, found from the test assembly's location.</summary>
public static class BuiltPrograms
{
    private static readonly string Configuration =
        typeof(BuiltPrograms).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string RepositoryRoot { get; } = FindRoot();

    public static string SiloDll => Require(Path.Combine(RepositoryRoot, "silo", "RaftCache.Silo", "bin", Configuration, "net10.0", "RaftCache.Silo.dll"));

    public static string CliDll => Require(Path.Combine(RepositoryRoot, "client", "RaftCache.Cli", "bin", Configuration, "net10.0", "raftcache.dll"));

    public static string SampleDll => Require(Path.Combine(RepositoryRoot, "client", "RaftCache.Sample", "bin", Configuration, "net10.0", "RaftCache.Sample.dll"));

    public static string WebSampleDll => Require(Path.Combine(RepositoryRoot, "client", "RaftCache.WebSample", "bin", Configuration, "net10.0", "RaftCache.WebSample.dll"));

    /// <summary>The dotnet host running this test (the CLI sets DOTNET_HOST_PATH for test runs).</summary>
    public static string DotNet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string Require(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: build the solution (the test project references it, so `dotnet test` builds it first).");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RaftCache.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException($"No RaftCache.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>
/// A Redis-compatible server in this process for the Orleans membership table, so the test needs only the .NET SDK.
/// Lua is required by the Orleans Redis membership table; the transaction mode makes its scripts atomic.
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static EmbeddedGarnet Start()
    {
        var port = FreePorts.Next();
        // Small memory settings: the membership table is a few hash entries.
        var server = new GarnetServer(["--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lua", "--lua-transaction-mode", "--memory", "64m", "--index", "1m"]);
        try
        {
            server.Start();
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return new EmbeddedGarnet(server, port);
    }

    public void Dispose() => _server.Dispose();
}

/// <summary>A child process whose output is kept (the last lines) for failure messages; killed on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int MaxLines = 300;
    private readonly Queue<string> _lines = new();
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyLine;

    private ChildProcess(string name, Process process, string? readyLine)
    {
        Name = name;
        _process = process;
        _readyLine = readyLine;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the development cluster (the silo program with no mode) on <paramref name="siloPort"/> and
    /// <paramref name="gatewayPort"/> and the ports after them, with <paramref name="viewArgs"/> for its live view. Ready
    /// at the last line of its ready message, so that the whole message is in the output.
    /// </summary>
    public static ChildProcess StartDevCluster(int siloPort, int gatewayPort, params string[] viewArgs) =>
        Start("dev cluster", BuiltPrograms.SiloDll,
            ["--silo-port", siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--gateway-port", gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture), .. viewArgs],
            readyLine: "Press Ctrl+C to stop.");

    /// <summary>Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c>.</summary>
    public static ChildProcess Start(string name, string dll, IEnumerable<string> args, string? readyLine = null) =>
        StartProgram(name, BuiltPrograms.DotNet, [dll, .. args], readyLine);

    /// <summary>
    /// Starts <paramref name="program"/> (an executable or script) with <paramref name="args"/>; with
    /// <paramref name="standardInput"/>, writes it to the process's standard input and closes that (else it is inherited).
    /// </summary>
    public static ChildProcess StartProgram(string name, string program, IEnumerable<string> args, string? readyLine = null, byte[]? standardInput = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = new Process { StartInfo = start };
        var child = new ChildProcess(name, process, readyLine);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data is null ? null : "[stderr] " + e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            using var input = process.StandardInput.BaseStream;
            input.Write(standardInput);
        }

        return child;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > MaxLines) _lines.Dequeue();
        }

        if (_readyLine is not null && line.Contains(_readyLine, StringComparison.Ordinal)) _ready.TrySetResult();
    }

    public string Output
    {
        get
        {
            lock (_lines) return string.Join(Environment.NewLine, _lines);
        }
    }

    /// <summary>Waits for the ready line; fails if the process exits first or the deadline passes.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout));
        if (first == _ready.Task) return;
        if (first == exited) throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready. Output:{Environment.NewLine}{Output}");
        throw new TimeoutException($"{Name} did not print '{_readyLine}' within {timeout}.");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM: what a service manager sends to stop the process gracefully.</summary>
    public Task TerminateAsync() => SignalAsync("TERM");

    /// <summary>SIGSTOP: the process freezes (every thread stops, its sockets stay open), as in a long pause of its machine.</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT: a frozen process goes on where it stopped.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        // .NET can send SIGKILL (Process.Kill) but no other signal; the kill command can.
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}.");
    }

    /// <summary>Runs <paramref name="dll"/> to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string dll, IEnumerable<string> args, TimeSpan timeout, byte[]? standardInput = null) =>
        RunProgramAsync(BuiltPrograms.DotNet, [dll, .. args], timeout, standardInput);

    /// <summary>Runs <paramref name="program"/> to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunProgramAsync(string program, IEnumerable<string> args, TimeSpan timeout, byte[]? standardInput = null)
    {
        var list = args.ToList();
        var name = Path.GetFileNameWithoutExtension(program == BuiltPrograms.DotNet && list.Count > 0 ? list[0] : program);
        await using var child = StartProgram(name, program, list, standardInput: standardInput);
        int code;
        try
        {
            code = await child.WaitForExitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{name} {string.Join(' ', list)} did not exit within {timeout.TotalSeconds:0} s. Output:{Environment.NewLine}{child.Output}");
        }

        // The exit event can precede the last asynchronous output lines; WaitForExit() without a timeout drains them.
        child._process.WaitForExit();
        return (code, child.Output);
    }

    /// <summary>SIGKILL: no graceful leave, no flush; as if the machine died.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            using var cancel = new CancellationTokenSource(Deadlines.Reap);
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }
}

/// <summary>Waiting on conditions with a deadline, never on fixed sleeps.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what, Func<string>? describe = null) where T : class
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                if (await probe() is { } found) return found;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = e;
            }

            await Task.Delay(100);
        }

        var detail = new StringBuilder($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.");
        if (last is not null) detail.Append($" Last error: {last.GetType().Name}: {last.Message}");
        if (describe is not null) detail.AppendLine().Append(describe());
        throw new TimeoutException(detail.ToString());
    }
}
