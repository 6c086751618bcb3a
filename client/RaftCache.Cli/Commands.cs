using System.CommandLine;
using System.Text;
using RaftCache.Client;
using Spectre.Console;

namespace RaftCache.Cli;

/// <summary>The commands and the error handling they share.</summary>
internal static class Commands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("RaftCache client: a Raft-replicated in-memory cache on Orleans." + Environment.NewLine + ExitCodes.Description);
        root.Options.Add(GlobalOptions.Gateway);
        root.Options.Add(GlobalOptions.Redis);
        root.Options.Add(GlobalOptions.ClusterId);
        root.Options.Add(GlobalOptions.ServiceId);
        root.Options.Add(GlobalOptions.ConnectTimeout);
        root.Options.Add(GlobalOptions.Timeout);
        root.Options.Add(GlobalOptions.Tls);
        root.Options.Add(GlobalOptions.TlsCa);
        root.Options.Add(GlobalOptions.TlsCertificate);
        root.Options.Add(GlobalOptions.TlsPassword);
        root.Subcommands.Add(Put());
        root.Subcommands.Add(Get());
        root.Subcommands.Add(Increment());
        root.Subcommands.Add(Delete());
        root.Subcommands.Add(Clear());
        root.Subcommands.Add(Status());
        root.Subcommands.Add(RecoverCommand.Build());
        root.Subcommands.Add(BenchCommand.Build());
        return root;
    }

    public static Option<string> ConsistencyOption(string description) => new Option<string>("--consistency", "-c")
    {
        Description = description,
        DefaultValueFactory = _ => "linearizable",
    }.AcceptOnlyFromAmong("linearizable", "lease", "local");

    public static ReadConsistency ParseConsistency(string text) => text switch
    {
        "lease" => ReadConsistency.Lease,
        "local" => ReadConsistency.Local,
        _ => ReadConsistency.Linearizable,
    };

    private static Command Put()
    {
        var key = new Argument<string>("KEY") { Description = "The key (UTF-8)." };
        var value = new Argument<string?>("VALUE")
        {
            Description = "The value (UTF-8), or - to read it from standard input as raw bytes. Or use --value-file.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var valueFile = new Option<string?>("--value-file")
        {
            Description = "Read the value from this file, as raw bytes (instead of VALUE).",
            HelpName = "PATH",
        };
        var ttl = new Option<TimeSpan?>("--ttl")
        {
            Description = "Expire the value after this long, for example 30s, 5m or 00:10:00.",
            CustomParser = Durations.ParsePositive,
            HelpName = "DURATION",
        };
        var command = new Command("put", "Store VALUE under KEY (linearizable, applied exactly once).") { key, value, valueFile, ttl };
        command.Validators.Add(result =>
        {
            var inline = result.GetResult(value) is { Tokens.Count: > 0 };
            var file = result.GetResult(valueFile) is not null;
            if (inline && file) result.AddError("Give the value either as VALUE or with --value-file PATH, not both.");
            else if (!inline && !file) result.AddError("A value is required: VALUE, - to read standard input, or --value-file PATH.");
        });
        command.SetAction(async (parse, cancellation) =>
        {
            // Read before connecting: a missing file is the caller's mistake, whether or not a cluster is reachable.
            byte[]? bytes = null;
            var path = parse.GetValue(valueFile);
            var text = parse.GetValue(value);
            if (path is not null || text == "-")
            {
                var read = await ValueInput.ReadAsync(path, cancellation).ConfigureAwait(false);
                if (read.Error is { } error) return Fail(read.ExitCode, error);
                bytes = read.Value;
            }

            return await RunAsync(parse, async connection =>
            {
                var keyText = parse.GetValue(key)!;
                var expiry = parse.GetValue(ttl);
                if (bytes is not null) await connection.Cache.PutAsync(Encoding.UTF8.GetBytes(keyText), bytes, expiry).ConfigureAwait(false);
                else await connection.Cache.PutAsync(keyText, text!, expiry).ConfigureAwait(false);
                Console.WriteLine("OK");
                return ExitCodes.Ok;
            }, cancellation).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Get()
    {
        var key = new Argument<string>("KEY") { Description = "The key (UTF-8)." };
        var consistency = ConsistencyOption("linearizable (default: sees every acknowledged write), lease (leader lease, no quorum round) or local (the silo's own replica, possibly stale).");
        var command = new Command("get", "Print the value stored under KEY; exit code 1 if there is none.") { key, consistency };
        command.SetAction((parse, cancellation) => RunAsync(parse, async connection =>
        {
            var found = await connection.Cache.GetAsync(parse.GetValue(key)!, ParseConsistency(parse.GetValue(consistency)!)).ConfigureAwait(false);
            if (found is null)
            {
                Console.Error.WriteLine("(not found)");
                return ExitCodes.NotFound;
            }

            Console.WriteLine(found);
            return ExitCodes.Ok;
        }, cancellation));
        return command;
    }

    private static Command Increment()
    {
        var key = new Argument<string>("KEY") { Description = "The key (UTF-8); its value is a decimal 64-bit integer, absent reads as 0." };
        var by = new Option<long>("--by") { Description = "The amount to add (negative to subtract).", DefaultValueFactory = _ => 1 };
        var command = new Command("incr", "Add to the integer under KEY atomically and exactly once; prints the new value.") { key, by };
        command.SetAction((parse, cancellation) => RunAsync(parse, async connection =>
        {
            Console.WriteLine(await connection.Cache.IncrementAsync(parse.GetValue(key)!, parse.GetValue(by)).ConfigureAwait(false));
            return ExitCodes.Ok;
        }, cancellation));
        return command;
    }

    private static Command Delete()
    {
        var key = new Argument<string>("KEY") { Description = "The key (UTF-8)." };
        var command = new Command("delete", "Remove KEY; prints whether it held a value (exit code 0 either way).") { key };
        command.SetAction((parse, cancellation) => RunAsync(parse, async connection =>
        {
            var existed = await connection.Cache.DeleteAsync(parse.GetValue(key)!).ConfigureAwait(false);
            Console.WriteLine(existed ? "deleted" : "not found");
            return ExitCodes.Ok;
        }, cancellation));
        return command;
    }

    private static Command Clear()
    {
        var command = new Command("clear", "Remove every key.");
        command.SetAction((parse, cancellation) => RunAsync(parse, async connection =>
        {
            await connection.Cache.ClearAsync().ConfigureAwait(false);
            Console.WriteLine("OK");
            return ExitCodes.Ok;
        }, cancellation));
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Show every group's replicas (silo, member id, role, term, commit, applied, lag behind the leader's commit, entries) and a summary per silo.");
        command.SetAction((parse, cancellation) => RunAsync(parse, async connection =>
        {
            var status = await connection.Cache.GetStatusAsync().ConfigureAwait(false);
            RenderStatus(status);
            return status.Groups.Length == 0 || status.Groups.Any(g => status.LeaderOf(g) is null) ? ExitCodes.Unavailable : ExitCodes.Ok;
        }, cancellation));
        return command;
    }

    private static void RenderStatus(ClusterStatus status)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("group", "silo", "member id", "role", "in group", "term", "commit", "applied", "lag", "entries", "healthy");
        foreach (var column in table.Columns.Skip(5)) column.RightAligned();
        foreach (var replica in status.Replicas.Where(r => r.IsReplica).OrderBy(r => r.Group).ThenBy(r => r.Silo, StringComparer.Ordinal))
        {
            var leader = status.LeaderOf(replica.Group);
            var membership = leader is null ? "?"
                : leader.Voters.Contains(replica.MemberId) ? "voter"
                : leader.Learners.Contains(replica.MemberId) ? "learner"
                : "no";
            var lag = leader is null ? "?" : (leader.Commit >= replica.Applied ? leader.Commit - replica.Applied : 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var role = replica.Role == ReplicaRole.Leader ? "[bold green]Leader[/]" : replica.Role.ToString();
            var healthy = replica.Healthy ? "yes" : "[red]no[/]" + (replica.Message is { } m ? " " + Markup.Escape(m) : "");
            table.AddRow(Num(replica.Group), Markup.Escape(replica.Silo), replica.MemberId.ToString(System.Globalization.CultureInfo.InvariantCulture), role, membership,
                Num(replica.Term), Num(replica.Commit), Num(replica.Applied), lag, Num(replica.EntryCount), healthy);
        }

        AnsiConsole.Write(table);

        var silos = new Table().Border(TableBorder.Rounded).AddColumns("silo", "replicas", "leading", "entries", "working set MB");
        foreach (var column in silos.Columns.Skip(1)) column.RightAligned();
        foreach (var silo in status.Replicas.GroupBy(r => r.Silo).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var replicas = silo.Where(r => r.IsReplica).ToList();
            silos.AddRow(Markup.Escape(silo.Key), Num(replicas.Count), Num(replicas.Count(r => r.Role == ReplicaRole.Leader)), Num(replicas.Sum(r => r.EntryCount)),
                Num(silo.Max(r => r.ProcessMemoryBytes) / (1024 * 1024)));
        }

        AnsiConsole.Write(silos);
        foreach (var unreachable in status.Unreachable) AnsiConsole.MarkupLine("[red]unreachable[/] " + Markup.Escape(unreachable));
        var groups = status.Groups;
        var leaderless = groups.Where(g => status.LeaderOf(g) is null).ToList();
        if (groups.Length == 0)
        {
            AnsiConsole.MarkupLine("[red]No group has formed yet.[/]");
        }
        else if (groups.Length == 1 && status.LeaderOf(groups[0]) is { } only)
        {
            AnsiConsole.MarkupLine($"Leader: {Markup.Escape(only.Silo)} (member {only.MemberId}), term {only.Term}, commit {only.Commit}, {only.Voters.Length} voters, {only.Learners.Length} learners.");
        }
        else
        {
            var voters = groups.Select(g => status.LeaderOf(g)?.Voters.Length ?? 0).Where(v => v > 0).Distinct().Order().ToList();
            AnsiConsole.MarkupLine(leaderless.Count == 0
                ? $"Leader: every one of the {groups.Length} groups has one ({string.Join(" or ", voters)} voters each)."
                : $"[red]No leader[/] in group(s) {string.Join(", ", leaderless)} of {groups.Length}.");
        }

        // A group re-formed by quorum-loss recovery (raftcache recover) runs in an epoch above 0.
        var recovered = groups.Select(g => (Group: g, Epoch: status.Replicas.Where(r => r.IsReplica && r.Group == g).Max(r => r.Epoch))).Where(g => g.Epoch > 0).ToList();
        if (recovered.Count > 0)
            AnsiConsole.MarkupLine("Re-formed after losing its quorum: " + string.Join(", ", recovered.Select(g => $"group {g.Group} (epoch {g.Epoch})")) + ".");
    }

    private static string Num<T>(T value) where T : IFormattable => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Connects, runs <paramref name="body"/>, and turns every failure into a message and its exit code. A command that
    /// needs more time than one operation gives <paramref name="defaultTimeout"/>: its request timeout unless
    /// <c>--timeout</c> is given.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<ClusterConnection, Task<int>> body, CancellationToken cancellation, TimeSpan? defaultTimeout = null)
    {
        try
        {
            await using var connection = await ClusterConnection.ConnectAsync(GlobalOptions.Settings(parse, defaultTimeout), cancellation).ConfigureAwait(false);
            return await body(connection).ConfigureAwait(false);
        }
        catch (InvalidTlsOptionsException e)
        {
            return Fail(ExitCodes.Usage, e.Message);
        }
        catch (ClusterUnreachableException e)
        {
            return Fail(ExitCodes.Unreachable, e.Message);
        }
        catch (RaftCacheException e)
        {
            return Fail(ExitCodes.For(e), $"{Describe(e)}: {e.Message}");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Fail(ExitCodes.Interrupted, "interrupted.");
        }
        catch (TimeoutException e)
        {
            return Fail(ExitCodes.Timeout, "the cluster did not answer in time (--timeout); the outcome is unknown. " + e.Message);
        }
        catch (OrleansException e)
        {
            return Fail(ExitCodes.Timeout, $"the connection to the cluster failed ({e.GetType().Name}); the outcome is unknown. {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Fail(ExitCodes.Failure, $"unexpected error: {e.GetType().Name}: {e.Message}");
        }
    }

    public static string Describe(RaftCacheException e) => e switch
    {
        CacheArgumentException => "invalid argument",
        CacheUnavailableException => "unavailable (not applied)",
        CacheOutcomeUnknownException => "outcome unknown (the write may or may not be applied)",
        CacheOverloadedException => "overloaded (not applied; retry later)",
        CacheSessionExpiredException => "session expired (not applied)",
        CacheValueException => "value error (not changed)",
        _ => "error",
    };

    /// <summary>Prints <paramref name="message"/> as an error and returns <paramref name="code"/>.</summary>
    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine("raftcache: " + message);
        return code;
    }
}
